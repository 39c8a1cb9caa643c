// A child process serving NBD: on its stdin and stdout (connect_command), or
// on a listening socket it was handed (systemd socket activation). The object
// guarantees the child is reaped: no zombie outlives it.
#pragma once

#include <sys/types.h>

#include <optional>
#include <utility>

#include "error/error.hpp"
#include "transport/socket_directory.hpp"

namespace nbdref::transport {

class Subprocess {
 public:
  // Adopts `pid`, a child of this process that nobody else will wait for.
  explicit Subprocess(pid_t pid) : pid_(pid) {}
  // The same, also taking charge of the directory holding the socket the
  // child listens on, which is removed once the child has been reaped.
  Subprocess(pid_t pid, SocketDirectory socket_directory)
      : pid_(pid), socket_directory_(std::move(socket_directory)) {}
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  // Ends and reaps the child: SIGTERM, up to two seconds for it to exit,
  // then SIGKILL and a final wait.
  ~Subprocess();

  pid_t pid() const { return pid_; }

  // Sends `signum` (passed to kill(2) unchanged) to the child, which may
  // already have exited but not yet been reaped. Errors: ESRCH when the
  // child has been reaped by someone else (its pid may now name an unrelated
  // process, so nothing is sent); kill(2)'s errno otherwise.
  Result<void> kill(int signum);

 private:
  // True while the child is ours to wait for: running, or exited but not reaped.
  bool still_ours() const;

  pid_t pid_;
  // A member, so that it is destroyed after the destructor's body has reaped
  // the child: the socket never vanishes under a server still running.
  std::optional<SocketDirectory> socket_directory_;
};

}  // namespace nbdref::transport
