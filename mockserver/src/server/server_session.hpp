// The server side of one NBD connection, played by the RAM-disk backend:
// bytes in, bytes out, no sockets, threads or clock. It implements the
// protocol as proto.md and proto-extended-headers.md tell a server to, so
// scripts can hand a connection over to it (the `serve` step) and clients
// can be tested against a server that does everything right.
//
// A caller starts the session at the point the conversation has reached,
// then loops: feed() what the client sent, send take_output() to the
// client, and close the connection once finished() and the output is sent.
// A session is used by one thread at a time; sessions on other threads may
// serve the same exports, whose disks lock themselves.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "server/command_handler.hpp"
#include "server/negotiation.hpp"
#include "server/serve_config.hpp"
#include "wire/option_request.hpp"
#include "wire/request.hpp"

namespace nbdref::mock {

enum class SessionPhase {
  NotStarted,    // no start_*() call yet
  Greeting,      // waiting for the client flags
  Options,       // option haggling
  Transmission,  // serving requests
  Finished,      // nothing more will be read or sent
};

class ServerSession {
 public:
  // `config` should pass config_problem(); the session assumes it does.
  explicit ServerSession(ServeConfig config);

  // One of these starts the session; once it has started, they do nothing.
  // Sends the greeting: newstyle, or oldstyle (then straight to transmission).
  void start_with_greeting();
  // The greeting was sent by someone else; next come the client flags
  // (newstyle) or the first request (oldstyle).
  void start_after_greeting();
  // The client flags were read already; next comes the first option.
  void start_in_options(std::uint32_t client_flags);
  // The handshake was done by someone else, ending in transmission on
  // `export_name` with the reply forms given; `allocation_context` is the id
  // base:allocation was selected under, if it was (block status then needs
  // `structured` or `extended`). Returns false, and stays unstarted, when
  // no export has that name or the context cannot be served.
  bool start_in_transmission(std::string_view export_name, bool structured, bool extended,
                             std::optional<std::uint32_t> allocation_context = std::nullopt);

  // Processes bytes the client sent; returns how many were taken. Fewer
  // than given when the session finished part way, or when replies worth
  // more than OUTPUT_HIGH_WATER wait in the output: take them, then feed
  // the rest again.
  std::size_t feed(std::span<const std::uint8_t> data);
  // Everything queued for the client, in order; the queue is left empty.
  std::vector<std::uint8_t> take_output();
  std::size_t output_size() const { return out_.size(); }

  SessionPhase phase() const { return phase_; }
  // The conversation is over: the client sent NBD_OPT_ABORT (acknowledged)
  // or NBD_CMD_DISC, or the session dropped the client.
  bool finished() const { return phase_ == SessionPhase::Finished; }
  // When the client broke the protocol: what it did, citing the clause.
  const std::optional<std::string>& client_violation() const { return violation_; }
  // How the session ended, in words (empty while it runs).
  const std::string& end_reason() const { return end_reason_; }
  // What option haggling agreed on (what start_in_transmission() was told).
  const Negotiation& negotiation() const { return negotiation_; }

  // feed() stops taking input while this much output waits, so a client
  // pipelining reads cannot make the server queue without limit.
  static constexpr std::size_t OUTPUT_HIGH_WATER = std::size_t{64} << 20;

 private:
  enum class Await {
    Nothing,
    ClientFlags,
    OptionHeader,
    OptionData,
    RequestHeader,
    RequestPayload,
  };

  std::size_t wanted() const;
  void dispatch();
  void on_client_flags();
  void on_option_header();
  void on_option_data();
  void on_request_header();
  void on_request_payload();

  void enter_options();
  void enter_transmission(TransmissionSetup setup);
  void end(std::string reason);
  // Drops the client: records what it did wrong and ends the session.
  void violation(std::string what);

  ServeConfig config_;
  Negotiation negotiation_;
  SessionPhase phase_ = SessionPhase::NotStarted;
  Await await_ = Await::Nothing;
  std::vector<std::uint8_t> in_;  // the message being assembled
  std::uint64_t payload_left_ = 0;
  bool keep_payload_ = false;
  wire::OptionRequestHeader option_;
  std::optional<CommandHandler> commands_;
  std::vector<std::uint8_t> out_;
  std::optional<std::string> violation_;
  std::string end_reason_;
  bool ended_by_client_ = false;  // NBD_OPT_ABORT or NBD_CMD_DISC
};

}  // namespace nbdref::mock
