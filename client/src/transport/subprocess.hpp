// A child process serving NBD on its stdin and stdout (the connect-command
// method). The object guarantees the child is reaped: no zombie outlives it.
#pragma once

#include <sys/types.h>

#include "error/error.hpp"

namespace nbdref::transport {

class Subprocess {
 public:
  // Adopts `pid`, a child of this process that nobody else will wait for.
  explicit Subprocess(pid_t pid) : pid_(pid) {}
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
};

}  // namespace nbdref::transport
