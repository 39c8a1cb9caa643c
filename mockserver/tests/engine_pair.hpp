// The project's client engine and a ServerSession joined by two byte
// queues in one thread: pump() moves bytes both ways until neither side
// has anything more to say. The client's strict checks then judge every
// byte the server sends.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/connection.hpp"
#include "server/server_session.hpp"

namespace nbdref::mock::test {

// Records what the engine reports for the commands it is given.
class OutcomeListener : public engine::CommandListener {
 public:
  void on_extents(const engine::MetaContext& context, std::uint64_t offset,
                  std::span<const wire::BlockDescriptor> extents, int& error) override;
  void on_complete(const engine::CommandOutcome& outcome) override;

  std::vector<engine::CommandOutcome> outcomes;
  std::vector<wire::BlockDescriptor> extents;  // of every status chunk, in order
};

class EnginePair {
 public:
  // The server starts with its greeting.
  EnginePair(ServeConfig server, engine::ConnectionConfig client);

  engine::Connection& client() { return client_; }
  ServerSession& server() { return server_; }

  // Moves bytes until both sides are quiet. When the server finishes, the
  // client sees the connection close once the server's last bytes are in.
  void pump();
  // Submits `request` with `listener` (one of its own when null) and
  // pumps; the command's outcome, or why it could not be submitted.
  engine::CommandOutcome run(engine::CommandRequest request, OutcomeListener* listener = nullptr);

 private:
  engine::Connection client_;
  ServerSession server_;
  std::vector<std::uint8_t> to_server_;  // sent by the client, not yet taken
  bool closed_ = false;
};

}  // namespace nbdref::mock::test
