// The state one connection's parts share: what was configured and
// negotiated, the byte buffers, the commands in flight, and the phase.
// The Negotiator, CommandIssuer and ReplyReader each work on it; Connection
// is the face the rest of the library sees.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "engine/command_table.hpp"
#include "engine/config.hpp"
#include "engine/export_info.hpp"
#include "engine/input_buffer.hpp"
#include "engine/option.hpp"
#include "engine/output_queue.hpp"
#include "error/error.hpp"

namespace nbdref::engine {

enum class Phase {
  Handshaking,  // greeting and options in progress
  Negotiating,  // option mode: waiting for the caller's next option
  Ready,        // transmission
  Dead,         // ended by an error; error() says why
  Closed,       // ended cleanly (disconnect or abort)
};
const char* phase_name(Phase p);

using DebugSink = std::function<void(const std::string&)>;

// Traffic so far (libnbd's nbd_stats_*). A chunk is one message that starts
// with a magic number: an option, a request, a greeting, a reply or reply chunk.
struct Stats {
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t chunks_sent = 0;
  std::uint64_t chunks_received = 0;
};

struct ConnectionCore {
  explicit ConnectionCore(ConnectionConfig c) : config(std::move(c)) {}

  ConnectionConfig config;
  Session session;
  InputBuffer input;
  OutputQueue output;
  CommandTable commands;
  Phase phase = Phase::Handshaking;
  std::optional<Error> error;
  DebugSink debug_sink;
  std::uint64_t next_cookie = 1;
  bool disconnect_requested = false;  // no new commands; DISC once none are in flight
  bool disconnect_sent = false;
  // The caller's option request in progress, told of its end exactly once
  // (also when the connection dies first).
  OptionListener* option_listener = nullptr;
  Stats stats;

  // Messages built from parts are only worth building when debugging().
  bool debugging() const { return static_cast<bool>(debug_sink); }
  void debug(std::string_view message) const {
    if (debug_sink) debug_sink(std::string(message));
  }

  // Ends the connection with `e`: every command in flight completes with
  // that error, unsent bytes are dropped. Later calls keep the first error.
  void die(Error e);
  // Like die(), but bytes already queued (a final NBD_OPT_ABORT) are still
  // sent before the transport closes.
  void die_after_flush(Error e);
  // The peer broke the protocol: die with EPROTO and a message naming the
  // violation and the clause it breaks (nullptr when no clause applies).
  void violation(const std::string& what, const char* clause);

  // Completes `c` with its recorded error (if any), removes it from the
  // table and tells its listener. Sends a pending DISC once the last
  // command is done.
  void complete(Command& c);
  // Queues NBD_CMD_DISC if a disconnect is pending and nothing is in flight.
  void maybe_send_disconnect();
};

}  // namespace nbdref::engine
