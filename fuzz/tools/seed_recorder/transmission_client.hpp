// The client of the "transmission" fuzz target, driven by the target's
// operations (transmission.cpp, TransmissionRun): submit, send, receive,
// disconnect, with the target's own command buffers and listeners
// (tracked_command.hpp). The recorder drives it over a real conversation,
// each call also written down as the operation that replays it; then a
// second one plays the written operations after the target's own
// handshake, and both must have sent the same bytes and seen the same
// outcomes. The operations are the target's own (transmission_input.hpp).
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "engine/connection.hpp"
#include "tracked_command.hpp"
#include "transmission_input.hpp"
#include "transmission_setup.hpp"
#include "wire/bytes.hpp"

namespace nbdref::fuzz::recorder {

// How a command came out, for comparing a recording with its replay.
struct CommandResult {
  bool submitted = false;  // the engine accepted it
  int completions = 0;
  int errnum = 0;
  bool operator==(const CommandResult&) const = default;
};

class TransmissionClient {
 public:
  // `conn` is in transmission (or has ended) and outlives this object.
  TransmissionClient(const transmission::Setup& setup, engine::Connection& conn);

  void submit(const transmission::SubmitFields& fields, bool from_end);
  // The client's output, which goes out now.
  std::vector<std::uint8_t> send();
  // The server sent `bytes` (as receive operations of at most MAX_RECEIVE).
  void receive(wire::Bytes bytes);
  void disconnect(bool abandon);
  // The target's ending: the output goes out, the server closes, and what
  // the client still sends is taken. Returns the bytes of the first send.
  std::vector<std::uint8_t> finish();

  // Plays operations as the target does, then finishes.
  void play(const std::vector<transmission::Operation>& operations);

  std::size_t in_flight() const { return conn_.in_flight(); }
  bool ended() const;
  const engine::Connection& connection() const { return conn_; }
  const std::vector<transmission::Operation>& operations() const { return operations_; }
  // Every byte received in transmission: the receive operations' bytes.
  std::vector<std::uint8_t> received() const;
  const std::vector<std::uint8_t>& sent() const { return sent_; }
  std::vector<CommandResult> results() const;
  // The commands submitted, by cookie, with what they asked for.
  const std::deque<TrackedCommand>& commands() const { return commands_; }

 private:
  // One receive operation: `piece`, at most MAX_RECEIVE bytes, goes in.
  void receive_piece(wire::Bytes piece);

  const transmission::Setup& setup_;
  engine::Connection& conn_;
  std::vector<engine::MetaContext> contexts_;  // as negotiated
  std::deque<TrackedCommand> commands_;        // never moved: the engine holds pointers
  std::vector<transmission::Operation> operations_;
  std::vector<std::uint8_t> sent_;  // every byte sent in transmission
};

// `operations` with each receive's bytes taken in turn from `stream`, as
// many as it had: how received(), edited in place (context_renumbering.hpp),
// goes back into the operations.
std::vector<transmission::Operation> with_received(std::vector<transmission::Operation> operations,
                                                   wire::Bytes stream);

}  // namespace nbdref::fuzz::recorder
