// nbdkit (1.32) for interop tests: one server per object, listening on a Unix
// socket or a loopback TCP port, stopped with its process group on
// destruction. nbdkit serves the same export under any name the client asks
// for, so tests choose the export name freely.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "support/endpoint.hpp"
#include "support/foreground_server.hpp"
#include "support/temp_dir.hpp"

namespace nbdref::test {

class NbdkitServer {
 public:
  // Export size of the default plugin arguments ("size=64M").
  static constexpr std::uint64_t kDefaultMemorySize = std::uint64_t{64} << 20;

  struct Options {
    std::string plugin = "memory";
    std::vector<std::string> plugin_args = {"size=64M"};
    // Server options placed before the plugin: "--filter=cow", "--no-sr",
    // "--mask-handshake=0", "-e", "NAME", ...
    std::vector<std::string> extra_args{};
    bool read_only = false;  // -r
    Transport transport = Transport::UnixSocket;
  };

  // Runs
  //   nbdkit -f --exit-with-parent [-r] (-U SOCK | -i 127.0.0.1 -p PORT)
  //          EXTRA_ARGS... PLUGIN PLUGIN_ARGS...
  // and returns once it listens. Throws std::runtime_error (with the command
  // line and nbdkit's output) when it exits first or is not ready in time.
  NbdkitServer() : NbdkitServer(Options{}) {}
  explicit NbdkitServer(Options options);

  const Endpoint& endpoint() const { return server_.endpoint; }
  const Options& options() const { return options_; }
  bool read_only() const { return options_.read_only; }
  pid_t pid() const { return server_.process.pid(); }
  std::string command_line() const { return server_.process.command_line(); }
  // What nbdkit has printed so far (stdout and stderr).
  std::string output() const { return server_.process.output(); }

  // Stops nbdkit now instead of at destruction; true when nothing is left of
  // its process group.
  bool stop() { return server_.process.stop(); }

 private:
  Options options_;
  TempDir dir_;  // the socket and nbdkit.log
  ForegroundServer server_;
};

}  // namespace nbdref::test
