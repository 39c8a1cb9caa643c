// nbdref-mock --relay: one client connection forwarded to a real server
// byte for byte, and with a record directory written down as it passes
// (conversation_recording.hpp). Both directions move at once, one thread
// each, so a client that pipelines large writes never deadlocks against a
// server that is sending replies. An end of stream from one side reaches
// the other as a half close; the connection is over once both sides have
// ended. A reset or failure on either side ends both.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "relay/relay_target.hpp"
#include "server/channel.hpp"

namespace nbdref::mock::relay {

struct RelayOptions {
  RelayTarget target;
  std::string record_dir;  // empty: nothing is recorded
  std::chrono::milliseconds connect_timeout{10'000};
};

struct RelayReport {
  bool connected = false;  // the server was reached
  std::uint64_t client_bytes = 0;
  std::uint64_t server_bytes = 0;
  // Empty when both sides ended with an orderly close; else what failed
  // first ("cannot reach unix:/tmp/s: ...", "the server: Connection reset by peer").
  std::string problem;

  bool passed() const { return connected && problem.empty(); }
  // "relayed 1234 bytes from the client and 5678 from the server", and the problem.
  std::string describe() const;
};

// Relays `client` to options.target until both sides have ended; the
// recording, if any, is connection `number`'s.
RelayReport relay_connection(Channel& client, std::uint64_t number, const RelayOptions& options);

}  // namespace nbdref::mock::relay
