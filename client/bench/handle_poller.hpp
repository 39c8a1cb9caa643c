// The event loop of the asynchronous workloads, for one or more handles: it
// waits with poll(2) for what each handle's nbd_aio_get_direction asks for,
// then lets the handle act with nbd_aio_notify_read / nbd_aio_notify_write
// (the loop libnbd(3) describes for programs with a main loop of their
// own). The same code drives both libraries; it allocates nothing per round.
#pragma once

#include <libnbd.h>
#include <poll.h>

#include <initializer_list>
#include <vector>

namespace nbdref::bench {

class HandlePoller {
 public:
  explicit HandlePoller(std::initializer_list<nbd_handle*> handles);

  // One round: waits until some handle can read or write, and lets it.
  // Throws std::runtime_error when a handle fails or nothing happens for
  // 30 seconds.
  void run_once();

 private:
  std::vector<nbd_handle*> handles_;
  std::vector<pollfd> fds_;
};

}  // namespace nbdref::bench
