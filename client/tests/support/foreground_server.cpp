#include "support/foreground_server.hpp"

#include <stdexcept>

#include "support/free_port.hpp"
#include "support/listening_socket.hpp"

namespace nbdref::test {

ForegroundServer start_foreground_server(const TempDir& dir, std::string_view name,
                                         Transport transport, const CommandForEndpoint& command) {
  const std::string label(name);
  for (int attempt = 1;; ++attempt) {
    Endpoint endpoint = transport == Transport::UnixSocket
                            ? Endpoint::unix_socket(dir.file(label + ".sock"))
                            : Endpoint::tcp_loopback(pick_free_tcp_port());
    ChildProcess process(command(endpoint), SpawnOptions{.output_path = dir.file(label + ".log")});
    Readiness readiness =
        wait_until_listening(process.pid(), endpoint, [&process] { return process.has_exited(); });
    if (readiness == Readiness::Listening) return {std::move(process), std::move(endpoint)};

    const bool exited = readiness == Readiness::Exited;
    std::string what =
        exited ? process.exit_description() + " before listening on "
               : "did not listen within " + std::to_string(kReadyTimeout.count()) + " ms on ";
    process.stop();
    std::string output = process.output();
    if (exited && !endpoint.is_unix() && attempt < kMaxPortAttempts &&
        reports_address_in_use(output)) {
      continue;
    }
    throw std::runtime_error(label + " " + what + endpoint.describe() +
                             "\ncommand: " + process.command_line() + "\noutput:\n" + output);
  }
}

}  // namespace nbdref::test
