// The handshake and option haggling (proto.md "Handshake", "Option types"):
// reads the greeting, answers with the client flags, then runs options one
// at a time until the connection enters transmission -- or, in option mode,
// stops between options to wait for the caller.
#pragma once

#include <deque>
#include <string>
#include <vector>

#include "engine/connection_core.hpp"
#include "engine/option.hpp"
#include "wire/option_reply.hpp"

namespace nbdref::engine {

class Negotiator {
 public:
  explicit Negotiator(ConnectionCore& core) : core_(core) {}

  // Parses as much buffered input as it can; returns whether it made progress.
  bool step();
  // How many contiguous bytes the current state needs (0 when it needs none).
  std::size_t bytes_wanted() const;
  // The server closed its side.
  void on_eof();
  // In the negotiating phase: run the caller's option.
  Result<void> start(OptionRequest request);

  // The server acknowledged NBD_OPT_STARTTLS: nothing more is sent or read
  // until the caller reports the TLS session up (C-TLS-008).
  bool awaiting_tls() const { return state_ == State::AwaitTls; }
  // The TLS handshake succeeded: negotiation starts afresh under TLS.
  void on_tls_established();

 private:
  enum class State {
    AwaitGreetingPrefix,
    AwaitOldstyleRest,
    AwaitHandshakeFlags,
    AwaitOptionReplyHeader,
    AwaitOptionReplyPayload,
    AwaitExportNameReply,
    AwaitTls,  // STARTTLS acknowledged: the caller runs the TLS handshake
    Idle,      // option mode, nothing pending
    Done,
  };
  // One option on the wire. A caller's request becomes one or more steps
  // (GO is preceded by SET_META_CONTEXT when contexts are wanted).
  enum class Step {
    ExtendedHeaders,
    StructuredReply,
    SetMetaContext,
    ListMetaContext,
    Info,
    Go,
    ExportName,
    List,
    Abort,
    StartTls,
  };
  struct PlannedStep {
    explicit PlannedStep(Step s, std::vector<std::string> q = {}, bool ends = false)
        : step(s), queries(std::move(q)), ends_request(ends) {}
    Step step;
    std::vector<std::string> queries;  // meta context steps
    // Completing this step completes the caller's request; steps the engine
    // adds on its own (the automatic ones, SET before GO) do not.
    bool ends_request;
  };

  void on_greeting_prefix();
  void on_oldstyle_rest();
  void on_handshake_flags();
  void on_option_reply_header();
  void on_option_reply_payload(wire::Bytes payload);
  void on_export_name_reply();

  void plan_request(OptionRequest request);
  // The options every connection negotiates once TLS is settled (C-TLS-020):
  // extended headers and structured replies as configured, then GO unless
  // in option mode.
  void plan_negotiation();
  void plan_go_or_info(Step step, bool ends_request);
  // Sends the next planned step, or settles into Idle / fails when none is left.
  void next_step();
  void send_option(std::uint32_t option, wire::Bytes data);
  void finish_step(const Result<void>& result);
  // Tells the caller's listener (if a request is running) how it ended.
  void finish_request(const Result<void>& result);
  void fail_request(Error e);

  // Reply handling per step.
  void on_info_reply(wire::Bytes payload);
  void on_meta_context_reply(wire::Bytes payload);
  void on_server_reply(wire::Bytes payload);
  void on_ack();
  void on_error_reply(wire::Bytes payload);

  void enter_transmission(std::uint64_t size, std::uint16_t transmission_flags);
  // Sends NBD_OPT_ABORT and ends the connection with `e`.
  void abort_with(Error e);

  std::uint32_t option_code(Step s) const;
  std::string describe_current() const;

  ConnectionCore& core_;
  State state_ = State::AwaitGreetingPrefix;
  std::deque<PlannedStep> plan_;
  PlannedStep current_{Step::Go};
  wire::OptionReplyHeader reply_;
  std::size_t replies_ = 0;  // replies to the current option so far
  std::size_t export_name_reply_size_ = 0;

  // What the current INFO/GO has told so far.
  ExportInfo pending_info_;
  bool pending_has_export_ = false;
  // Contexts of the current SET_META_CONTEXT / LIST_META_CONTEXT.
  std::vector<MetaContext> pending_contexts_;
  // The export name the last successful SET_META_CONTEXT was for (C-BS-010).
  std::string contexts_export_name_;
  // ... with these queries, under this header form: an automatic SET
  // before INFO/GO asking the same again is skipped (C-OPT-003).
  std::vector<std::string> contexts_queries_;
  bool contexts_extended_ = false;
  bool contexts_set_ = false;
  // The caller's NBD_OPT_STARTTLS ends once the options renegotiated under
  // TLS are done, when the negotiator next waits for the caller.
  bool complete_when_idle_ = false;
};

}  // namespace nbdref::engine
