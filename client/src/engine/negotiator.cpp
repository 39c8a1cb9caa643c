#include "engine/negotiator.hpp"

#include <algorithm>
#include <cerrno>

#include "wire/handshake.hpp"
#include "wire/limits.hpp"
#include "wire/option_request.hpp"
#include "wire/strings.hpp"

namespace nbdref::engine {
namespace {

using namespace wire;

// Option replies are small: the largest legitimate one is NBD_REP_SERVER
// with a 4096-byte name and a 4096-byte description. Anything far beyond
// that is refused rather than buffered (B-GEN-003, proto.md "Size constraints").
constexpr std::size_t MAX_OPTION_REPLY_PAYLOAD = 64 * 1024;
// Bounds on what one option may make us keep, whatever the server sends.
constexpr std::size_t MAX_INFO_REPLIES = 1024;
constexpr std::size_t MAX_META_CONTEXTS = 4096;
// NBD_OPT_LIST sends one NBD_REP_SERVER per export. Nothing is kept per
// export, but an endless stream would keep the list running forever; real
// servers export a handful, so 65536 is far beyond any of them (B-GEN-003).
constexpr std::size_t MAX_SERVER_REPLIES = 65536;

int errno_for_option_error(std::uint32_t reply_type) {
  switch (reply_type) {
    case NBD_REP_ERR_UNSUP:
      return ENOTSUP;
    case NBD_REP_ERR_POLICY:
      return EPERM;
    case NBD_REP_ERR_INVALID:
      return EINVAL;
    case NBD_REP_ERR_PLATFORM:
      return ENOTSUP;
    case NBD_REP_ERR_TLS_REQD:
      return ENOTSUP;
    case NBD_REP_ERR_UNKNOWN:
      return ENOENT;
    case NBD_REP_ERR_SHUTDOWN:
      return ESHUTDOWN;
    case NBD_REP_ERR_BLOCK_SIZE_REQD:
      return EINVAL;
    case NBD_REP_ERR_TOO_BIG:
      return E2BIG;
    case NBD_REP_ERR_EXT_HEADER_REQD:
      return ENOTSUP;
    default:
      return EINVAL;
  }
}

std::string quoted(std::string_view s) {
  return "'" + std::string(s) + "'";
}

// The namespace of a context name or query: the text up to and including
// the first colon (proto.md "Metadata querying").
std::string_view context_namespace(std::string_view name) {
  return name.substr(0, name.find(':') + 1);
}

bool in_queried_namespace(std::string_view name, const std::vector<std::string>& queries) {
  const auto ns = context_namespace(name);
  for (const auto& q : queries) {
    if (context_namespace(q) == ns) return true;
  }
  return false;
}

// "'base:', 'qemu:'": each namespace the queries name, once.
std::string queried_namespaces(const std::vector<std::string>& queries) {
  std::vector<std::string_view> seen;
  std::string out;
  for (const auto& q : queries) {
    const auto ns = context_namespace(q);
    if (std::find(seen.begin(), seen.end(), ns) != seen.end()) continue;
    seen.push_back(ns);
    out += (out.empty() ? "" : ", ") + quoted(ns);
  }
  return out;
}

// C-GEN-002 (proto.md "Conventions"): strings should stay within 256 bytes.
// Export names and queries are the caller's and a server may accept up to
// 4096 bytes (C-GEN-003 is enforced), so a longer one still goes out, with
// a warning in the debug log.
void warn_if_unportable(const ConnectionCore& core, std::string_view s, const char* what) {
  if (s.size() <= PORTABLE_STRING_LENGTH || !core.debugging()) return;
  core.debug(std::string("warning: the ") + what + " is " + std::to_string(s.size()) +
             " bytes long, more than the " + std::to_string(PORTABLE_STRING_LENGTH) +
             " a portable string stays within; some servers may refuse it [C-GEN-002]");
}

}  // namespace

std::uint32_t Negotiator::option_code(Step s) const {
  switch (s) {
    case Step::ExtendedHeaders:
      return NBD_OPT_EXTENDED_HEADERS;
    case Step::StructuredReply:
      return NBD_OPT_STRUCTURED_REPLY;
    case Step::SetMetaContext:
      return NBD_OPT_SET_META_CONTEXT;
    case Step::ListMetaContext:
      return NBD_OPT_LIST_META_CONTEXT;
    case Step::Info:
      return NBD_OPT_INFO;
    case Step::Go:
      return NBD_OPT_GO;
    case Step::ExportName:
      return NBD_OPT_EXPORT_NAME;
    case Step::List:
      return NBD_OPT_LIST;
    case Step::Abort:
      return NBD_OPT_ABORT;
    case Step::StartTls:
      return NBD_OPT_STARTTLS;
  }
  return 0;
}

std::string Negotiator::describe_current() const {
  return option_name(option_code(current_.step));
}

std::size_t Negotiator::bytes_wanted() const {
  switch (state_) {
    case State::AwaitGreetingPrefix:
      return GREETING_PREFIX_SIZE;
    case State::AwaitOldstyleRest:
      return OLDSTYLE_GREETING_REST_SIZE;
    case State::AwaitHandshakeFlags:
      return HANDSHAKE_FLAGS_SIZE;
    case State::AwaitOptionReplyHeader:
      return OPTION_REPLY_HEADER_SIZE;
    case State::AwaitOptionReplyPayload:
      return reply_.length;
    case State::AwaitExportNameReply:
      return export_name_reply_size_;
    case State::AwaitTls:
    case State::Idle:
    case State::Done:
      return 0;
  }
  return 0;
}

bool Negotiator::step() {
  if (core_.phase != Phase::Handshaking && core_.phase != Phase::Negotiating) return false;
  // Bytes after the STARTTLS acknowledgement are the server's side of the
  // TLS handshake: never parsed here (Connection::take_unread_input).
  if (state_ == State::AwaitTls) return false;
  if (state_ == State::Idle) {
    if (core_.input.empty()) return false;
    // The message names no byte count: how much has arrived depends on how
    // the transport read it, and the same stream must end the same way.
    core_.violation("sent data while no option was pending", "C-OPT-002");
    return true;
  }
  const std::size_t need = bytes_wanted();
  if (state_ == State::Done || core_.input.size() < need) return false;
  const Bytes bytes = core_.input.peek(need);
  switch (state_) {
    case State::AwaitGreetingPrefix:
      on_greeting_prefix();
      break;
    case State::AwaitOldstyleRest:
      on_oldstyle_rest();
      break;
    case State::AwaitHandshakeFlags:
      on_handshake_flags();
      break;
    case State::AwaitOptionReplyHeader:
      on_option_reply_header();
      break;
    case State::AwaitOptionReplyPayload:
      // The handler reads views into the buffer, so the bytes go after it.
      on_option_reply_payload(bytes);
      core_.input.consume(need);
      return true;
    case State::AwaitExportNameReply:
      on_export_name_reply();
      break;
    case State::AwaitTls:
    case State::Idle:
    case State::Done:
      return false;
  }
  return true;
}

void Negotiator::on_eof() {
  if (core_.phase == Phase::Dead || core_.phase == Phase::Closed) return;
  if (current_.step == Step::Abort && state_ == State::AwaitOptionReplyHeader) {
    // C-OPT-007 (proto.md "NBD_OPT_ABORT"): a server may close instead of acknowledging.
    core_.phase = Phase::Closed;
    finish_request({});
    return;
  }
  std::string waiting;
  switch (state_) {
    case State::AwaitGreetingPrefix:
      waiting = "the greeting";
      break;
    case State::AwaitOldstyleRest:
      waiting = "the rest of the oldstyle greeting";
      break;
    case State::AwaitHandshakeFlags:
      waiting = "the handshake flags";
      break;
    case State::AwaitOptionReplyHeader:
    case State::AwaitOptionReplyPayload:
      waiting = "the reply to " + describe_current();
      break;
    case State::AwaitExportNameReply: {
      // S-HS-005 (proto.md "Newstyle negotiation"): closing before any reply
      // byte is how a server refuses the name. The reply stays buffered
      // until whole, so any byte here means it began a reply and broke off.
      const std::size_t arrived = core_.input.size();
      if (arrived == 0) {
        core_.die(Error{ECONNRESET,
                        "the server closed the connection after NBD_OPT_EXPORT_NAME: "
                        "it refused export " +
                            quoted(core_.config.export_name)});
      } else {
        core_.die(Error{ECONNRESET,
                        "the server closed the connection after NBD_OPT_EXPORT_NAME "
                        "with its reply truncated: " +
                            std::to_string(arrived) + " of the " +
                            std::to_string(export_name_reply_size_) + " bytes arrived"});
      }
      return;
    }
    case State::AwaitTls:
      waiting = "the TLS handshake";
      break;
    case State::Idle:
      waiting = "the next option";
      break;
    case State::Done:
      return;
  }
  core_.die(
      Error{ECONNRESET, "the server closed the connection while the client waited for " + waiting});
}

// ---- greeting ----

void Negotiator::on_greeting_prefix() {
  auto style = decode_greeting_prefix(core_.input.peek(GREETING_PREFIX_SIZE));
  if (!style) {
    core_.violation("bad greeting: " + style.error().to_string(), style.error().clause);
    return;
  }
  core_.input.consume(GREETING_PREFIX_SIZE);
  ++core_.stats.chunks_received;
  core_.session.greeted = true;
  state_ =
      *style == GreetingStyle::Oldstyle ? State::AwaitOldstyleRest : State::AwaitHandshakeFlags;
}

void Negotiator::on_oldstyle_rest() {
  auto g = decode_oldstyle_greeting_rest(core_.input.peek(OLDSTYLE_GREETING_REST_SIZE));
  core_.input.consume(OLDSTYLE_GREETING_REST_SIZE);
  core_.session.protocol = Protocol::Oldstyle;
  // S-HS-018 forbids handshake flags here; like unknown newstyle flags they
  // are ignored (C-HS-002), there is nothing to negotiate.
  if (g->handshake_flags() != 0 && core_.debugging()) {
    core_.debug("oldstyle server set handshake flags " +
                describe_handshake_flags(g->handshake_flags()) + "; ignored");
  }
  core_.debug("oldstyle server");
  if (core_.config.tls == TlsMode::Require) {
    // C-TLS-018, C-TLS-004 (proto.md "Protocol downgrade attacks"): an
    // oldstyle server (or a man in the middle posing as one) cannot do TLS;
    // the client has sent nothing and leaves without using the export.
    core_.die(Error{ENOTSUP,
                    "the server uses the oldstyle handshake, which has no TLS, and TLS is required "
                    "(see set_tls) [C-TLS-018]"});
    return;
  }
  if (core_.config.tls == TlsMode::Allow) {
    core_.debug("oldstyle server: TLS is impossible; going on without it, as allowed");
  }
  enter_transmission(g->export_size, g->transmission_flags());
}

void Negotiator::on_handshake_flags() {
  const auto flags = load_be16(core_.input.peek(HANDSHAKE_FLAGS_SIZE).data());
  core_.input.consume(HANDSHAKE_FLAGS_SIZE);
  core_.session.server_handshake_flags = flags;
  // C-HS-002 (proto.md "Newstyle negotiation"): unknown bits are ignored.
  const bool fixed =
      (flags & NBD_FLAG_FIXED_NEWSTYLE) && (core_.config.handshake_flags & NBD_FLAG_FIXED_NEWSTYLE);
  std::uint32_t client_flags = 0;
  // C-HS-003: answer fixed newstyle; C-HS-012: NO_ZEROES only if offered; C-HS-013: nothing else.
  if (fixed) client_flags |= NBD_FLAG_C_FIXED_NEWSTYLE;
  if ((flags & NBD_FLAG_NO_ZEROES) && (core_.config.handshake_flags & NBD_FLAG_NO_ZEROES)) {
    client_flags |= NBD_FLAG_C_NO_ZEROES;
  }
  core_.session.client_flags = client_flags;
  core_.session.protocol = fixed ? Protocol::FixedNewstyle : Protocol::Newstyle;
  if (core_.debugging()) {
    core_.debug("server handshake flags " + describe_handshake_flags(flags) + ", client flags " +
                describe_client_flags(client_flags));
  }
  if (!fixed && core_.config.tls == TlsMode::Require) {
    // C-TLS-005: STARTTLS needs fixed newstyle on both sides; C-TLS-018: a
    // client that requires TLS then goes no further (a server, or a man in
    // the middle, leaving the flag out is a downgrade attempt). Not even the
    // client flags are sent.
    const bool server_lacks = !(flags & NBD_FLAG_FIXED_NEWSTYLE);
    core_.die(Error{ENOTSUP, std::string(server_lacks ? "the server does not offer"
                                                      : "the handshake flags (set_handshake_flags) "
                                                        "leave out") +
                                 " fixed newstyle negotiation, without which TLS cannot start, and "
                                 "TLS is required (see set_tls) [C-TLS-018]"});
    return;
  }
  std::vector<std::uint8_t> out;
  Writer w(out);
  encode_client_flags(client_flags, w);
  core_.output.append_copy(out);

  if (!fixed) {
    // Plain newstyle knows only NBD_OPT_EXPORT_NAME (proto.md "Newstyle negotiation").
    if (core_.config.tls == TlsMode::Allow) {
      core_.debug("no fixed newstyle: TLS is impossible; going on without it, as allowed");
    }
    plan_.emplace_back(Step::ExportName);
  } else if (core_.config.tls != TlsMode::Disable) {
    // C-TLS-010 (proto.md "Client-side requirements"): STARTTLS is the very
    // first option; C-TLS-020: the stateful ones wait until TLS is settled.
    plan_.emplace_back(Step::StartTls);
  } else {
    plan_negotiation();
  }
  next_step();
}

void Negotiator::plan_negotiation() {
  if (core_.config.request_extended_headers) plan_.emplace_back(Step::ExtendedHeaders);
  if (core_.config.request_structured_replies) plan_.emplace_back(Step::StructuredReply);
  if (!core_.config.opt_mode) plan_go_or_info(Step::Go, false);
}

void Negotiator::on_tls_established() {
  if (state_ != State::AwaitTls) return;
  auto& s = core_.session;
  s.tls_negotiated = true;
  // C-SR-004, X-C-015 (proto.md "NBD_OPT_STARTTLS"): whatever was agreed in
  // plaintext is gone (the server forgets it too, S-TLS-033) and is
  // negotiated again under TLS; what the server said about exports in the
  // clear is not trusted either.
  s.structured_replies = false;
  s.extended_headers = false;
  s.meta_contexts.clear();
  s.export_info = ExportInfo{};
  contexts_set_ = false;
  contexts_export_name_.clear();
  contexts_queries_.clear();
  core_.debug("TLS is up: negotiating again under TLS");
  // The caller's own STARTTLS (option mode) ends once that is done.
  complete_when_idle_ = current_.ends_request;
  plan_negotiation();
  next_step();
}

// ---- planning and sending ----

Result<void> Negotiator::start(OptionRequest request) {
  if (core_.phase != Phase::Negotiating || state_ != State::Idle) {
    return failure(EINVAL, std::string("cannot start an option while the connection is ") +
                               phase_name(core_.phase));
  }
  core_.phase = Phase::Handshaking;
  core_.option_listener = request.listener;
  plan_request(std::move(request));
  next_step();
  return {};
}

void Negotiator::plan_request(OptionRequest request) {
  switch (request.kind) {
    case OptionKind::Go:
      plan_go_or_info(Step::Go, true);
      return;
    case OptionKind::Info:
      plan_go_or_info(Step::Info, true);
      return;
    case OptionKind::ExtendedHeaders:
      plan_.emplace_back(Step::ExtendedHeaders, std::vector<std::string>{}, true);
      return;
    case OptionKind::StructuredReply:
      plan_.emplace_back(Step::StructuredReply, std::vector<std::string>{}, true);
      return;
    case OptionKind::SetMetaContext:
    case OptionKind::ListMetaContext: {
      // Without explicit queries, the contexts the caller asked for (as libnbd does).
      auto queries = request.queries.empty() ? core_.config.meta_contexts : request.queries;
      const Step step =
          request.kind == OptionKind::SetMetaContext ? Step::SetMetaContext : Step::ListMetaContext;
      plan_.emplace_back(step, std::move(queries), true);
      return;
    }
    case OptionKind::List:
      plan_.emplace_back(Step::List, std::vector<std::string>{}, true);
      return;
    case OptionKind::Abort:
      plan_.emplace_back(Step::Abort, std::vector<std::string>{}, true);
      return;
    case OptionKind::StartTls:
      plan_.emplace_back(Step::StartTls, std::vector<std::string>{}, true);
      return;
  }
}

void Negotiator::plan_go_or_info(Step step, bool ends_request) {
  if (!core_.config.meta_contexts.empty()) {
    plan_.emplace_back(Step::SetMetaContext, core_.config.meta_contexts);
  }
  plan_.emplace_back(step, std::vector<std::string>{}, ends_request);
}

void Negotiator::next_step() {
  while (!plan_.empty()) {
    current_ = std::move(plan_.front());
    plan_.pop_front();
    replies_ = 0;
    const auto& name = core_.config.export_name;
    std::vector<std::uint8_t> data;
    Writer w(data);

    if (core_.config.tls == TlsMode::Require && !core_.session.tls_negotiated &&
        current_.step != Step::StartTls && current_.step != Step::Abort) {
      // C-TLS-018 (proto.md "Protocol downgrade attacks"): with TLS required,
      // no option naming an export or asking for anything leaves in the
      // clear. The paths above never get here; this holds whatever they do.
      abort_with(Error{ENOTSUP, "TLS is required (see set_tls) but not active, so " +
                                    describe_current() + " is not sent in the clear [C-TLS-018]"});
      return;
    }
    const bool sends_name = current_.step != Step::ExtendedHeaders &&
                            current_.step != Step::StructuredReply && current_.step != Step::List &&
                            current_.step != Step::Abort && current_.step != Step::StartTls;
    // C-GEN-001/003 (proto.md "Conventions"): strings we send obey the rules.
    if (auto e = check_string(name, "export name", CLIENT_STRING); e && sends_name) {
      fail_request(Error{EINVAL, "cannot send " + describe_current() + ": " + e->to_string()});
      return;
    }
    if (sends_name) warn_if_unportable(core_, name, "export name");
    const bool payloads = core_.session.structured_replies || core_.session.extended_headers;
    switch (current_.step) {
      case Step::ExtendedHeaders:
        // X-C-010: no data.
        break;
      case Step::StructuredReply:
        if (core_.session.extended_headers && !current_.ends_request) {
          // Extended headers take precedence; asking again would only earn
          // NBD_REP_ERR_EXT_HEADER_REQD (proto-extended-headers.md "NBD_OPT_STRUCTURED_REPLY").
          continue;
        }
        break;  // C-SR-001: no data.
      case Step::SetMetaContext:
      case Step::ListMetaContext: {
        // C-BS-009 / X-C-009: only once reply payloads are possible.
        if (!payloads) {
          if (current_.step == Step::SetMetaContext && !current_.ends_request) {
            core_.session.meta_contexts.clear();
            contexts_set_ = false;
            core_.debug("meta contexts not requested: structured replies were not negotiated");
            continue;
          }
          fail_request(Error{ENOTSUP, describe_current() +
                                          " needs structured replies or extended headers, which "
                                          "were not negotiated"});
          return;
        }
        if (current_.step == Step::SetMetaContext && !current_.ends_request && contexts_set_ &&
            contexts_export_name_ == name && contexts_queries_ == current_.queries &&
            contexts_extended_ == core_.session.extended_headers) {
          // C-OPT-003 (proto.md "Fixed newstyle negotiation"): the server holds
          // this very selection for this export (an INFO before GO); asking
          // again would only repeat a state-changing option.
          core_.debug("meta contexts already selected for this export; not sent again");
          continue;
        }
        MetaContextRequest req{name, {}};
        for (const auto& q : current_.queries) {
          // C-BS-006 / C-BS-011: every query starts with a namespace and a colon.
          const auto colon = q.find(':');
          if (colon == std::string::npos || colon == 0) {
            fail_request(Error{EINVAL, "meta context query " + quoted(q) +
                                           " does not start with a namespace and a colon"});
            return;
          }
          if (auto e = check_string(q, "meta context query", CLIENT_STRING)) {
            fail_request(Error{EINVAL, e->to_string()});
            return;
          }
          warn_if_unportable(core_, q, "meta context query");
          req.queries.push_back(q);
        }
        encode_meta_context_request(req, w);
        pending_contexts_.clear();
        break;
      }
      case Step::Info:
      case Step::Go: {
        InfoRequest req{name, {}};
        // C-SZ-001: say we honour size constraints; C-OPT-012: each type once.
        if (core_.config.request_block_size) req.info_types.push_back(NBD_INFO_BLOCK_SIZE);
        if (core_.config.full_info) {
          req.info_types.push_back(NBD_INFO_NAME);
          req.info_types.push_back(NBD_INFO_DESCRIPTION);
        }
        encode_info_request(req, w);
        pending_info_ = ExportInfo{};
        pending_has_export_ = false;
        break;
      }
      case Step::ExportName:
        // X-C-006: never after extended headers were agreed.
        if (core_.session.extended_headers) {
          abort_with(Error{ENOTSUP,
                           "the server acknowledged extended headers but refused "
                           "NBD_OPT_GO, and NBD_OPT_EXPORT_NAME may not follow them"});
          return;
        }
        w.string(name);
        break;
      case Step::List:   // C-OPT-008: no data
      case Step::Abort:  // C-OPT-006: no data
        break;
      case Step::StartTls:
        if (core_.session.tls_negotiated) {
          // C-TLS-006 (proto.md "Client-side requirements"): TLS once only.
          fail_request(Error{EINVAL,
                             "TLS is already active on this connection, and NBD_OPT_STARTTLS "
                             "may not be sent again [C-TLS-006]"});
          return;
        }
        // C-TLS-005: only under fixed newstyle, which is the only way here.
        break;  // C-TLS-019: no data
    }
    send_option(option_code(current_.step), data);
    if (current_.step == Step::ExportName) {
      const bool no_zeroes = core_.session.client_flags & NBD_FLAG_C_NO_ZEROES;
      export_name_reply_size_ =
          EXPORT_NAME_REPLY_SIZE + (no_zeroes ? 0 : EXPORT_NAME_REPLY_PADDING);
      state_ = State::AwaitExportNameReply;
    } else {
      state_ = State::AwaitOptionReplyHeader;
    }
    return;
  }
  // Nothing left: option mode waits for the caller (plans always end in GO otherwise).
  state_ = State::Idle;
  core_.phase = Phase::Negotiating;
  if (std::exchange(complete_when_idle_, false)) finish_request({});
}

void Negotiator::send_option(std::uint32_t option, Bytes data) {
  std::vector<std::uint8_t> out;
  Writer w(out);
  encode_option_request(option, data, w);
  core_.output.append_copy(out);
  ++core_.stats.chunks_sent;
  if (core_.debugging()) {
    core_.debug("sent " + describe_option(option) + " with " + std::to_string(data.size()) +
                " bytes of data");
  }
}

void Negotiator::finish_step(const Result<void>& result) {
  const bool ends = current_.ends_request;
  next_step();
  if (ends) finish_request(result);
}

void Negotiator::finish_request(const Result<void>& result) {
  if (auto* listener = std::exchange(core_.option_listener, nullptr)) {
    listener->on_option_complete(result);
  }
}

void Negotiator::fail_request(Error e) {
  if (core_.debugging()) core_.debug(describe_current() + " failed: " + e.message);
  // The rest of this request's plan goes with it.
  while (!current_.ends_request && !plan_.empty()) {
    current_ = std::move(plan_.front());
    plan_.pop_front();
  }
  if (!core_.config.opt_mode || core_.phase == Phase::Dead) {
    // Without option mode nobody can choose another export: end politely
    // (C-HS-010, proto.md "Termination of the session during option haggling").
    abort_with(std::move(e));  // the dying connection tells the listener
    return;
  }
  plan_.clear();
  next_step();
  finish_request(tl::unexpected(std::move(e)));
}

void Negotiator::abort_with(Error e) {
  if (core_.phase != Phase::Dead) {
    std::vector<std::uint8_t> out;
    Writer w(out);
    encode_option_request(NBD_OPT_ABORT, {}, w);
    core_.output.append_copy(out);
  }
  state_ = State::Done;
  core_.die_after_flush(std::move(e));
}

// ---- option replies ----

void Negotiator::on_option_reply_header() {
  auto h = decode_option_reply_header(core_.input.peek(OPTION_REPLY_HEADER_SIZE));
  if (!h) {
    core_.violation("bad reply to " + describe_current() + ": " + h.error().to_string(),
                    h.error().clause);
    return;
  }
  const std::uint32_t expected = option_code(current_.step);
  if (h->option != expected) {
    core_.violation("answered " + describe_option(h->option) + " while the client waited for " +
                        describe_option(expected),
                    "S-OPT-020");
    return;
  }
  if (h->length > MAX_OPTION_REPLY_PAYLOAD) {
    core_.violation(describe_option_reply(h->reply_type) + " reply to " + describe_current() +
                        " claims " + std::to_string(h->length) +
                        " bytes, more than the client's bound of " +
                        std::to_string(MAX_OPTION_REPLY_PAYLOAD),
                    "B-GEN-003");
    return;
  }
  core_.input.consume(OPTION_REPLY_HEADER_SIZE);
  ++core_.stats.chunks_received;
  reply_ = *h;
  ++replies_;
  state_ = State::AwaitOptionReplyPayload;
}

void Negotiator::on_option_reply_payload(Bytes payload) {
  state_ = State::AwaitOptionReplyHeader;  // unless the handler moves on
  if (core_.debugging()) {
    core_.debug("received " + describe_option_reply(reply_.reply_type) + " to " +
                describe_current() + " with " + std::to_string(payload.size()) + " bytes");
  }
  if (current_.step == Step::Abort) {
    // Whatever the answer, the conversation is over (C-HS-004).
    core_.phase = Phase::Closed;
    state_ = State::Done;
    finish_request({});
    return;
  }
  if (is_error_reply(reply_.reply_type)) {
    on_error_reply(payload);
    return;
  }
  const auto type = reply_.reply_type;
  const auto step = current_.step;
  const bool valid = type == NBD_REP_ACK || (type == NBD_REP_SERVER && step == Step::List) ||
                     (type == NBD_REP_INFO && (step == Step::Info || step == Step::Go)) ||
                     (type == NBD_REP_META_CONTEXT &&
                      (step == Step::SetMetaContext || step == Step::ListMetaContext));
  if (!valid) {
    core_.violation("sent " + describe_option_reply(type) + " in reply to " + describe_current(),
                    "S-OPT-020");
    return;
  }
  switch (type) {
    case NBD_REP_ACK:
      if (!payload.empty()) {
        core_.violation("NBD_REP_ACK to " + describe_current() + " carries " +
                            std::to_string(payload.size()) + " bytes; it has no data",
                        nullptr);
        return;
      }
      on_ack();
      return;
    case NBD_REP_SERVER:
      on_server_reply(payload);
      return;
    case NBD_REP_INFO:
      on_info_reply(payload);
      return;
    case NBD_REP_META_CONTEXT:
      on_meta_context_reply(payload);
      return;
  }
}

void Negotiator::on_server_reply(Bytes payload) {
  if (replies_ > MAX_SERVER_REPLIES) {
    core_.violation("sent more than " + std::to_string(MAX_SERVER_REPLIES) +
                        " NBD_REP_SERVER replies to one " + describe_current(),
                    "B-GEN-003");
    return;
  }
  auto s = decode_server_reply(payload);
  if (!s) {
    core_.violation("bad NBD_REP_SERVER: " + s.error().to_string(), s.error().clause);
    return;
  }
  // Passed straight on: the client keeps nothing per export.
  if (core_.option_listener) core_.option_listener->on_export(s->name, s->description);
}

void Negotiator::on_info_reply(Bytes payload) {
  if (replies_ > MAX_INFO_REPLIES) {
    core_.violation("sent more than " + std::to_string(MAX_INFO_REPLIES) +
                        " NBD_REP_INFO replies to one " + describe_current(),
                    "S-OPT-022");
    return;
  }
  auto info = decode_info_reply(payload);
  if (!info) {
    core_.violation("bad NBD_REP_INFO: " + info.error().to_string(), info.error().clause);
    return;
  }
  // C-OPT-015: any order; C-OPT-013: unknown types ignored.
  if (auto* e = std::get_if<InfoExport>(&*info)) {
    pending_info_.size = e->export_size;
    pending_info_.transmission_flags = e->transmission_flags;
    pending_has_export_ = true;
  } else if (auto* n = std::get_if<InfoName>(&*info)) {
    pending_info_.canonical_name = std::string(n->name);
  } else if (auto* d = std::get_if<InfoDescription>(&*info)) {
    pending_info_.description = std::string(d->description);
  } else if (auto* b = std::get_if<InfoBlockSize>(&*info)) {
    pending_info_.block_sizes = BlockSizes{b->minimum, b->preferred, b->maximum};
  } else if (core_.debugging()) {
    core_.debug("ignoring unknown information type " +
                std::to_string(std::get<InfoUnknown>(*info).type));
  }
}

void Negotiator::on_meta_context_reply(Bytes payload) {
  if (pending_contexts_.size() >= MAX_META_CONTEXTS) {
    core_.violation("sent more than " + std::to_string(MAX_META_CONTEXTS) +
                        " NBD_REP_META_CONTEXT replies to one " + describe_current(),
                    "B-GEN-003");
    return;
  }
  auto m = decode_meta_context_reply(payload);
  if (!m) {
    core_.violation("bad NBD_REP_META_CONTEXT: " + m.error().to_string(), m.error().clause);
    return;
  }
  // Contexts come only from the client's queries. What a query matches
  // within its namespace is the namespace's business (wildcards, ranges:
  // S-BS-030, S-BS-038), so only the namespace is checked: a context in no
  // queried namespace was never asked for.
  const bool set = current_.step == Step::SetMetaContext;
  // S-BS-025 (proto.md "NBD_OPT_LIST_META_CONTEXT"): a LIST without queries
  // names every context there is.
  if ((set || !current_.queries.empty()) && !in_queried_namespace(m->name, current_.queries)) {
    std::string what =
        "sent NBD_REP_META_CONTEXT for " + quoted(m->name) + " in reply to " + describe_current();
    const char* clause = nullptr;
    if (current_.queries.empty()) {
      // S-BS-035 (proto.md "NBD_OPT_SET_META_CONTEXT"): zero queries select nothing.
      what += ", which had no queries and so selects no context";
      clause = "S-BS-035";
    } else {
      what += ", whose queries are only in the namespaces " + queried_namespaces(current_.queries);
      // S-BS-037 (proto.md "NBD_OPT_SET_META_CONTEXT"): one reply per
      // context the queries select; S-BS-027 (proto.md
      // "NBD_OPT_LIST_META_CONTEXT"): a LIST with queries names only
      // contexts matching one of them.
      clause = set ? "S-BS-037" : "S-BS-027";
    }
    core_.violation(what, clause);
    return;
  }
  if (set) {
    for (const auto& c : pending_contexts_) {
      if (c.id == m->context_id) {
        core_.violation("gave context id " + std::to_string(m->context_id) + " to both " +
                            quoted(c.name) + " and " + quoted(m->name),
                        "S-BS-037");
        return;
      }
    }
  }
  // C-BS-008: the id in a LIST answer means nothing; C-BS-007: contexts are
  // only reported once the list ends with NBD_REP_ACK.
  pending_contexts_.push_back({std::string(m->name), m->context_id});
}

void Negotiator::on_ack() {
  switch (current_.step) {
    case Step::ExtendedHeaders:
      core_.session.extended_headers = true;  // X-C-013
      core_.debug("extended headers negotiated");
      finish_step({});
      return;
    case Step::StructuredReply:
      core_.session.structured_replies = true;
      core_.debug("structured replies negotiated");
      finish_step({});
      return;
    case Step::SetMetaContext:
      // A caller who asked for this SET hears each selected context.
      if (current_.ends_request && core_.option_listener) {
        for (const auto& c : pending_contexts_) core_.option_listener->on_context(c.name);
      }
      core_.session.meta_contexts = std::move(pending_contexts_);
      pending_contexts_.clear();
      contexts_export_name_ = core_.config.export_name;
      contexts_queries_ = current_.queries;
      contexts_extended_ = core_.session.extended_headers;
      contexts_set_ = true;
      if (core_.debugging()) {
        core_.debug(std::to_string(core_.session.meta_contexts.size()) + " meta contexts selected");
      }
      finish_step({});
      return;
    case Step::ListMetaContext:
      if (core_.option_listener) {
        for (const auto& c : pending_contexts_) core_.option_listener->on_context(c.name);
      }
      pending_contexts_.clear();
      finish_step({});
      return;
    case Step::List:
      finish_step({});
      return;
    case Step::Info:
    case Step::Go:
      // S-OPT-014 (proto.md "NBD_REP_INFO"): success needs NBD_INFO_EXPORT first.
      if (!pending_has_export_) {
        core_.violation("acknowledged " + describe_current() + " without sending NBD_INFO_EXPORT",
                        "S-OPT-014");
        return;
      }
      pending_info_.known = true;
      if (current_.step == Step::Info) {
        core_.session.export_info = pending_info_;
        finish_step({});
        return;
      }
      {
        const auto size = pending_info_.size;
        const auto flags = pending_info_.transmission_flags;
        core_.session.export_info = pending_info_;
        enter_transmission(size, flags);
        if (core_.phase == Phase::Ready) finish_request({});
      }
      return;
    case Step::StartTls:
      // C-TLS-008 (proto.md "Client-side requirements"): upgrade at once.
      // Nothing is sent or parsed until the caller has run the handshake
      // and called on_tls_established().
      state_ = State::AwaitTls;
      core_.debug("the server agreed to NBD_OPT_STARTTLS: starting the TLS handshake");
      return;
    case Step::ExportName:
    case Step::Abort:
      return;  // no option replies for these
  }
}

void Negotiator::on_error_reply(Bytes payload) {
  const auto type = reply_.reply_type;
  auto message = decode_error_reply_message(payload);
  if (!message) {
    core_.violation("bad error message: " + message.error().to_string(), message.error().clause);
    return;
  }
  std::string text = "the server refused " + describe_current();
  if (current_.step == Step::Go || current_.step == Step::Info ||
      current_.step == Step::SetMetaContext || current_.step == Step::ListMetaContext) {
    text += " for export " + quoted(core_.config.export_name);
  }
  text +=
      ": " + std::string(option_reply_name(type) ? option_reply_name(type) : "unknown error reply");
  if (!message->empty()) text += ": " + std::string(*message);
  core_.debug(text);
  if (type == NBD_REP_ERR_TLS_REQD) {
    if (core_.session.tls_negotiated) {
      // S-TLS-019, S-TLS-025 (proto.md "TLS support"): never once TLS is up.
      core_.violation("answered " + describe_current() +
                          " with NBD_REP_ERR_TLS_REQD although TLS is already active",
                      "S-TLS-019");
      return;
    }
    if (current_.step != Step::StartTls) text += " (the server wants TLS: see set_tls)";
  }

  if (type == NBD_REP_ERR_SHUTDOWN) {
    // C-HS-011 (proto.md "Termination of the session during option haggling").
    abort_with(Error{ESHUTDOWN, text});
    return;
  }
  switch (current_.step) {
    case Step::ExtendedHeaders:
      // X-C-014: fall back to compact headers.
      core_.session.extended_headers = false;
      finish_step(current_.ends_request
                      ? Result<void>(tl::unexpected(Error{errno_for_option_error(type), text}))
                      : Result<void>());
      return;
    case Step::StructuredReply:
      // C-SR-002: carry on with simple replies.
      core_.session.structured_replies = false;
      finish_step(current_.ends_request
                      ? Result<void>(tl::unexpected(Error{errno_for_option_error(type), text}))
                      : Result<void>());
      return;
    case Step::SetMetaContext:
      // S-BS-033: a failed SET still replaces the selection; C-BS-007: replies before it are void.
      pending_contexts_.clear();
      core_.session.meta_contexts.clear();
      contexts_set_ = false;
      // When SET only precedes GO, GO goes ahead without block status.
      finish_step(current_.ends_request
                      ? Result<void>(tl::unexpected(Error{errno_for_option_error(type), text}))
                      : Result<void>());
      return;
    case Step::Go:
      // C-OPT-005: a server without GO gets NBD_OPT_EXPORT_NAME instead.
      if (type == NBD_REP_ERR_UNSUP && !core_.session.extended_headers) {
        core_.debug("NBD_OPT_GO unsupported: falling back to NBD_OPT_EXPORT_NAME");
        plan_.emplace_front(Step::ExportName, std::vector<std::string>{}, current_.ends_request);
        next_step();
        return;
      }
      core_.session.export_info = ExportInfo{};
      fail_request(Error{errno_for_option_error(type), text});
      return;
    case Step::Info:
      // What an earlier INFO said was about another export: forget it.
      core_.session.export_info = ExportInfo{};
      fail_request(Error{errno_for_option_error(type), text});
      return;
    case Step::List:
    case Step::ListMetaContext:
      pending_contexts_.clear();
      fail_request(Error{errno_for_option_error(type), text});
      return;
    case Step::StartTls:
      if (current_.ends_request) {
        // C-TLS-009: the caller asked for this STARTTLS and hears the refusal;
        // the session goes on in plaintext until they decide otherwise.
        fail_request(Error{errno_for_option_error(type), text});
        return;
      }
      if (core_.config.tls == TlsMode::Require) {
        // C-TLS-011 (proto.md "Client-side requirements"), C-TLS-018: a
        // client that only wants TLS ends the session here, before anything
        // that names an export (libnbd's CVE-2019-14842).
        abort_with(Error{ENOTSUP, text + "; TLS is required (see set_tls) [C-TLS-011]"});
        return;
      }
      // C-TLS-009: TLS is only allowed, so the session goes on without it.
      core_.debug("going on without TLS, as allowed");
      plan_negotiation();
      finish_step({});
      return;
    case Step::ExportName:
    case Step::Abort:
      return;
  }
}

void Negotiator::on_export_name_reply() {
  auto r = decode_export_name_reply(core_.input.peek(export_name_reply_size_));
  core_.input.consume(export_name_reply_size_);
  enter_transmission(r->export_size, r->transmission_flags);
  if (core_.phase == Phase::Ready) finish_request({});
}

// ---- entering transmission ----

void Negotiator::enter_transmission(std::uint64_t size, std::uint16_t flags) {
  auto& s = core_.session;
  // Rules on the transmission flags (proto.md "Transmission flags").
  if (!(flags & NBD_FLAG_HAS_FLAGS)) {
    core_.violation(
        "transmission flags " + describe_transmission_flags(flags) + " lack NBD_FLAG_HAS_FLAGS",
        "S-TX-015");
    return;
  }
  if ((flags & NBD_FLAG_SEND_DF) && !s.structured_replies && !s.extended_headers) {
    core_.violation("advertised NBD_FLAG_SEND_DF although structured replies were not negotiated",
                    "S-TX-019");
    return;
  }
  if ((flags & NBD_FLAG_SEND_FAST_ZERO) && !(flags & NBD_FLAG_SEND_WRITE_ZEROES)) {
    core_.violation("advertised NBD_FLAG_SEND_FAST_ZERO without NBD_FLAG_SEND_WRITE_ZEROES",
                    "S-TX-023");
    return;
  }
  if ((flags & NBD_FLAG_BLOCK_STATUS_PAYLOAD) && !s.extended_headers) {
    core_.violation(
        "advertised NBD_FLAG_BLOCK_STATUS_PAYLOAD although extended headers were not negotiated",
        "X-S-010");
    return;
  }
  s.export_info.known = true;
  s.export_info.size = size;
  s.export_info.transmission_flags = flags;
  // C-BS-010: contexts count only if the last SET_META_CONTEXT named this export.
  if (!contexts_set_ || contexts_export_name_ != core_.config.export_name) {
    s.meta_contexts.clear();
  }
  state_ = State::Done;
  core_.phase = Phase::Ready;
  if (core_.debugging()) {
    core_.debug("transmission: export size " + std::to_string(size) + ", flags " +
                describe_transmission_flags(flags));
  }
}

}  // namespace nbdref::engine
