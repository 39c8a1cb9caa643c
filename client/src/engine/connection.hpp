// The sans-I/O NBD client engine: bytes in, bytes out, commands in,
// completions out. It owns no socket, clock, thread or global, so the same
// input always gives the same output -- which is what lets tests and
// fuzzers drive it directly.
//
// A caller (the handle layer, a test, a fuzzer) loops:
//   - receive into input_space() and report input_received(n), or input_eof();
//   - send output_segments() and report output_sent(n);
//   - submit commands and options; results arrive through their listeners
//     while input is processed.
#pragma once

#include <sys/uio.h>

#include <span>
#include <vector>

#include "engine/command_issuer.hpp"
#include "engine/connection_core.hpp"
#include "engine/negotiator.hpp"
#include "engine/reply_reader.hpp"

namespace nbdref::engine {

class Connection {
 public:
  explicit Connection(ConnectionConfig config);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  Phase phase() const { return core_.phase; }
  // Why the connection is dead, once it is.
  const std::optional<Error>& error() const { return core_.error; }
  const Session& session() const { return core_.session; }
  // Settings may change while negotiating (option mode), before the next option.
  ConnectionConfig& config() { return core_.config; }
  const ConnectionConfig& config() const { return core_.config; }
  void set_debug(DebugSink sink) { core_.debug_sink = std::move(sink); }

  // ---- input ----
  // Where the next received bytes should be written: a region of the
  // engine's buffer, or of a caller's read buffer when a large payload is
  // arriving. Never empty while the connection is alive.
  std::span<std::uint8_t> input_space();
  // `n` bytes were written at the start of the last input_space().
  void input_received(std::size_t n);
  // The peer closed its side of the connection.
  void input_eof();
  // Copies `data` in and processes it; returns how much was taken: all of
  // it, unless the connection ended part way or the engine stopped reading
  // to wait for the TLS handshake (take_unread_input() then holds the
  // bytes already taken but not processed).
  std::size_t feed(wire::Bytes data);
  // How many more bytes complete the negotiation message being read; 0
  // when the engine reads none (it waits for the caller or for TLS, or the
  // negotiation is over). A driver handing input over in pieces can stop
  // at each message's end and act before the next, as the server's next
  // bytes may answer what the caller does in between.
  std::size_t negotiation_bytes_missing() const;

  // ---- output ----
  bool has_output() const { return !core_.output.empty(); }
  std::size_t output_segments(std::span<iovec> out) const { return core_.output.gather(out); }
  void output_sent(std::size_t n);
  // Everything queued, as one buffer, marked sent (for tests and fuzzers).
  std::vector<std::uint8_t> take_output();

  // ---- negotiation (option mode) ----
  Result<void> start_option(OptionRequest request) { return negotiator_.start(std::move(request)); }

  // ---- TLS ----
  // The server agreed to NBD_OPT_STARTTLS: the caller must now run the TLS
  // handshake over its transport (the STARTTLS option has been sent in full;
  // there is no output) and then call tls_established(), or fail() when the
  // handshake fails (C-TLS-012). Until then the engine produces nothing and
  // parses nothing.
  bool tls_requested() const { return negotiator_.awaiting_tls(); }
  // Bytes already received beyond the server's acknowledgement, which
  // belong to the TLS handshake; handed over once.
  std::vector<std::uint8_t> take_unread_input();
  // Every byte in both directions now goes through TLS: negotiation starts
  // again (C-SR-004), and session().tls_negotiated is true.
  void tls_established();

  // ---- transmission ----
  Result<std::uint64_t> submit(const CommandRequest& request) { return issuer_.submit(request); }
  Result<void> disconnect(bool abandon_pending) { return issuer_.disconnect(abandon_pending); }
  std::size_t in_flight() const { return core_.commands.size(); }
  // Bytes of a request are waiting to be sent, or a reply has arrived in
  // part: libnbd calls the handle "processing" then, and "ready" when it
  // only waits for replies.
  bool mid_exchange() const {
    return core_.output.pending_bytes() > 0 || !core_.input.empty() || reader_.mid_reply();
  }
  const Stats& stats() const { return core_.stats; }

  // The transport failed: the connection dies with `e`.
  void fail(Error e) { core_.die(std::move(e)); }

 private:
  void process();

  ConnectionCore core_;
  Negotiator negotiator_;
  CommandIssuer issuer_;
  ReplyReader reader_;
  bool direct_input_ = false;  // the last input_space() was a caller's buffer
};

}  // namespace nbdref::engine
