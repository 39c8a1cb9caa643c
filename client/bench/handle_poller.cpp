// poll(2) over the handles' descriptors, then nbd_aio_notify_*.
#include "handle_poller.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "nbd_connection.hpp"

namespace nbdref::bench {
namespace {

// A server that stops answering fails the run instead of hanging it.
constexpr int kStallTimeoutMs = 30'000;

}  // namespace

HandlePoller::HandlePoller(std::initializer_list<nbd_handle*> handles) : handles_(handles) {
  for (nbd_handle* h : handles_) {
    const int fd = nbd_aio_get_fd(h);
    if (fd < 0) throw_nbd_error("nbd_aio_get_fd");
    fds_.push_back(pollfd{fd, 0, 0});
  }
}

void HandlePoller::run_once() {
  for (std::size_t i = 0; i < handles_.size(); ++i) {
    const unsigned direction = nbd_aio_get_direction(handles_[i]);
    short events = 0;
    if (direction & LIBNBD_AIO_DIRECTION_READ) events |= POLLIN;
    if (direction & LIBNBD_AIO_DIRECTION_WRITE) events |= POLLOUT;
    fds_[i].events = events;
    fds_[i].revents = 0;
  }
  int ready;
  do {
    ready = poll(fds_.data(), fds_.size(), kStallTimeoutMs);
  } while (ready < 0 && errno == EINTR);
  if (ready < 0) throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
  if (ready == 0) throw std::runtime_error("no progress for 30 s: the server stopped answering");
  for (std::size_t i = 0; i < handles_.size(); ++i) {
    const short revents = fds_[i].revents;
    if (revents & (POLLIN | POLLHUP | POLLERR)) {
      if (nbd_aio_notify_read(handles_[i]) == -1) throw_nbd_error("nbd_aio_notify_read");
    }
    // Reading may have changed what the handle waits for.
    if ((revents & POLLOUT) && (nbd_aio_get_direction(handles_[i]) & LIBNBD_AIO_DIRECTION_WRITE)) {
      if (nbd_aio_notify_write(handles_[i]) == -1) throw_nbd_error("nbd_aio_notify_write");
    }
  }
}

}  // namespace nbdref::bench
