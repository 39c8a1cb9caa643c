// Starting a server the way systemd's socket activation does (see
// sd_listen_fds(3)): the child finds an already-listening socket as file
// descriptor 3, announced by LISTEN_PID (its own pid), LISTEN_FDS=1 and
// LISTEN_FDNAMES=nbd in its environment.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "error/error.hpp"

namespace nbdref::transport {

// Runs argv (argv[0] looked up in PATH) with `listener` as its descriptor 3,
// this process's environment minus every LISTEN_* variable plus the three
// above, no blocked signals and the default SIGPIPE action. Returns once the
// program has been executed, with its pid: the caller must reap it. Fails
// with EINVAL for an empty argv, or with the errno of starting the program
// (ENOENT when it is not found, say), the program named in the message.
Result<pid_t> start_socket_activated(std::vector<std::string> argv, int listener);

}  // namespace nbdref::transport
