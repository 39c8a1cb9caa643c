// Starting a server that stays in the foreground (nbdkit, qemu-nbd): pick its
// endpoint, run it, wait until it listens, and retry with another port when
// the one picked was taken in the meantime.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "support/child_process.hpp"
#include "support/endpoint.hpp"
#include "support/temp_dir.hpp"

namespace nbdref::test {

struct ForegroundServer {
  ChildProcess process;
  Endpoint endpoint;
};

// The full command line of the server for a given endpoint to listen on.
using CommandForEndpoint = std::function<std::vector<std::string>(const Endpoint&)>;

// Starts the command for a Unix socket "<dir>/<name>.sock" or for a free port
// on 127.0.0.1, with its output in "<dir>/<name>.log", and returns once the
// process listens there. Tries up to kMaxPortAttempts ports while the server
// reports EADDRINUSE. Throws std::runtime_error with the command line, how the
// process ended and its output when it exits or does not listen within
// kReadyTimeout.
ForegroundServer start_foreground_server(const TempDir& dir, std::string_view name,
                                         Transport transport, const CommandForEndpoint& command);

}  // namespace nbdref::test
