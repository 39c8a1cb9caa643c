// Checks of the greeting and the handshake flags (proto.md "Handshake",
// "Handshake flags", "Client flags") and of NBD_OPT_EXPORT_NAME, the option
// that ends the handshake without an option reply.
#include <algorithm>

#include "checks/areas.hpp"
#include "checks/check_support.hpp"
#include "probe/printable.hpp"
#include "probe/probe_error.hpp"
#include "runner/check_context.hpp"
#include "wire/bytes.hpp"
#include "wire/constants.hpp"
#include "wire/option_request.hpp"
#include "wire/writer.hpp"

namespace nbdref::conform {
namespace {

using namespace wire;

// How long a server gets to close a connection it must close.
constexpr std::chrono::milliseconds kCloseWait{3'000};

// The greeting of a fresh connection; not applicable to an oldstyle server.
Greeting newstyle_greeting(Probe& probe) {
  const Greeting g = probe.read_greeting();
  if (g.style == GreetingStyle::Oldstyle) {
    throw CheckAbort{Status::NotApplicable, "the server uses oldstyle negotiation"};
  }
  return g;
}

// An NBD_OPT_INFO request for the target's export, as raw option bytes: sent
// after client flags a server must refuse, it would be answered only by a
// server that wrongly kept the session.
std::vector<std::uint8_t> info_option_bytes(const std::string& export_name) {
  std::vector<std::uint8_t> data;
  Writer d(data);
  encode_info_request({export_name, {}}, d);
  std::vector<std::uint8_t> out;
  Writer w(out);
  encode_option_request(NBD_OPT_INFO, data, w);
  return out;
}

// Sends `client_flags` and an NBD_OPT_INFO at once; the server must close
// the connection without answering. Shared by the two checks of client flags
// a server must refuse.
Outcome expect_refused_client_flags(CheckContext& ctx, Probe& probe, std::uint32_t client_flags,
                                    const std::string& required) {
  probe.send_client_flags(client_flags);
  try {
    probe.send_raw(info_option_bytes(ctx.export_name()),
                   "NBD_OPT_INFO (6) for the target export, to see whether the session went on");
  } catch (const ProbeError& e) {
    // Closed before the option could be sent: what the check wants.
    if (e.kind() != ProbeError::Kind::Closed) throw;
  }
  const ByteChannel::CloseWait wait = probe.channel().await_close(kCloseWait);
  if (!wait.bytes.empty()) {
    return ctx.fail("the server went on with the session and sent " +
                        std::to_string(wait.bytes.size()) + " bytes (see the transcript)",
                    required);
  }
  if (!wait.closed) {
    return ctx.fail("the connection was still open " + std::to_string(kCloseWait.count()) +
                        " ms after the client flags",
                    required);
  }
  return ctx.pass();
}

// Probe of whether the server has an export named `name`: true when
// NBD_OPT_INFO says it does not exist (NBD_REP_ERR_UNKNOWN).
bool export_is_unknown(CheckContext& ctx, std::string_view name) {
  Probe probe = ctx.connect_newstyle();
  const OptionReplies r = probe.request_info(NBD_OPT_INFO, name);
  return r.back().type == NBD_REP_ERR_UNKNOWN;
}

void send_export_name(Probe& probe, std::string_view name) {
  probe.send_option(NBD_OPT_EXPORT_NAME, as_bytes(name), "export " + quoted(name));
}

// S-INT-002 (proto.md "Baseline"), S-HS-002 ("Newstyle negotiation").
Outcome newstyle_greeting_check(CheckContext& ctx) {
  Probe probe = ctx.connect();
  const Greeting g = probe.read_greeting();
  if (g.style == GreetingStyle::Oldstyle) {
    return ctx.fail("the server greeted with the oldstyle magic 0x00420281861253",
                    "a server implements the fixed newstyle handshake [S-INT-002] and refuses "
                    "oldstyle negotiation [S-HS-002]");
  }
  return ctx.pass();
}

// S-HS-014 (proto.md "Handshake flags"), S-OPT-003 ("NBD_OPT_EXPORT_NAME").
Outcome fixed_newstyle_flag(CheckContext& ctx) {
  Probe probe = ctx.connect();
  const Greeting g = newstyle_greeting(probe);
  if (!(g.handshake_flags & NBD_FLAG_FIXED_NEWSTYLE)) {
    return ctx.fail("handshake flags " + describe_handshake_flags(g.handshake_flags) +
                        " lack NBD_FLAG_FIXED_NEWSTYLE",
                    "a server supporting fixed newstyle (needed for any option besides "
                    "NBD_OPT_EXPORT_NAME) sets NBD_FLAG_FIXED_NEWSTYLE [S-HS-014, S-OPT-003]");
  }
  return ctx.pass();
}

// S-HS-016 (proto.md "Handshake flags").
Outcome reserved_handshake_flags(CheckContext& ctx) {
  Probe probe = ctx.connect();
  const Greeting g = newstyle_greeting(probe);
  const std::uint16_t reserved =
      g.handshake_flags & ~(NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
  if (reserved != 0) {
    return ctx.fail(
        "handshake flags " + describe_handshake_flags(g.handshake_flags) + " set reserved bits",
        "the server sets no handshake flag besides bits 0 and 1 [S-HS-016]");
  }
  return ctx.pass();
}

// S-HS-018 (proto.md "Handshake flags": none during oldstyle negotiation).
Outcome oldstyle_handshake_flags(CheckContext& ctx) {
  Probe probe = ctx.connect();
  const Greeting g = probe.read_greeting();
  if (g.style != GreetingStyle::Oldstyle) {
    return ctx.not_applicable("the server uses newstyle negotiation");
  }
  if (g.oldstyle.handshake_flags() != 0) {
    return ctx.fail("the upper 16 bits of the oldstyle flags are " +
                        describe_handshake_flags(g.oldstyle.handshake_flags()),
                    "an oldstyle server sets no handshake flags [S-HS-018]");
  }
  return ctx.pass();
}

// S-HS-004 (proto.md "Newstyle negotiation", "Client flags").
Outcome unknown_client_flag(CheckContext& ctx) {
  Probe probe = ctx.connect();
  newstyle_greeting(probe);
  return expect_refused_client_flags(
      ctx, probe, NBD_FLAG_C_FIXED_NEWSTYLE | 0x80000000u,
      "a server closes the connection when the client flags contain a bit it does not "
      "know [S-HS-004]");
}

// S-HS-020 (proto.md "Client flags").
Outcome unadvertised_no_zeroes(CheckContext& ctx) {
  Probe probe = ctx.connect();
  const Greeting g = newstyle_greeting(probe);
  if (g.handshake_flags & NBD_FLAG_NO_ZEROES) {
    return ctx.not_applicable("the server advertises NBD_FLAG_NO_ZEROES");
  }
  return expect_refused_client_flags(
      ctx, probe, NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES,
      "a server drops the connection when the client sets a flag it did not advertise "
      "(NBD_FLAG_C_NO_ZEROES without NBD_FLAG_NO_ZEROES) [S-HS-020]");
}

// S-HS-015 (proto.md "Handshake flags", "Client flags").
Outcome no_zeroes_honoured(CheckContext& ctx) {
  Probe probe = ctx.connect();
  const Greeting g = newstyle_greeting(probe);
  if (!(g.handshake_flags & NBD_FLAG_NO_ZEROES)) {
    return ctx.not_applicable("the server does not advertise NBD_FLAG_NO_ZEROES");
  }
  probe.send_client_flags(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
  if (ctx.target().tls) ctx.start_tls(probe);
  send_export_name(probe, ctx.export_name());
  const ExportNameAnswer answer = probe.read_export_name_reply(false);
  // A request whose reply must come next: its magic shows whether padding
  // was wrongly sent in between.
  const auto request = probe.send_request(NBD_CMD_READ, 0, 0,
                                          std::min<std::uint64_t>(answer.reply.export_size, 512));
  const auto next = probe.channel().receive(4, "the reply to NBD_CMD_READ");
  probe.transcript().received("the first bytes after the reply to NBD_OPT_EXPORT_NAME", next);
  const std::uint32_t magic = load_be32(next.data());
  if (magic == NBD_SIMPLE_REPLY_MAGIC) finish_simple_reply(probe, request);
  if (magic != NBD_SIMPLE_REPLY_MAGIC) {
    return ctx.fail(magic == 0 ? "zero bytes followed the reply to NBD_OPT_EXPORT_NAME"
                               : "the bytes after the reply to NBD_OPT_EXPORT_NAME are not a "
                                 "simple reply (see the transcript)",
                    "with NBD_FLAG_NO_ZEROES offered and NBD_FLAG_C_NO_ZEROES set, the 124 zero "
                    "bytes after the NBD_OPT_EXPORT_NAME reply are omitted [S-HS-015]");
  }
  return ctx.pass();
}

// S-HS-017 (proto.md "Handshake flags": no change of behaviour unless the
// client set the matching flag).
Outcome zeroes_without_no_zeroes(CheckContext& ctx) {
  Probe probe = ctx.connect_newstyle(NBD_FLAG_C_FIXED_NEWSTYLE);
  send_export_name(probe, ctx.export_name());
  const std::string required =
      "without NBD_FLAG_C_NO_ZEROES the server still sends the 124 zero bytes after the "
      "NBD_OPT_EXPORT_NAME reply [S-HS-017]";
  probe.read_export_name_reply(false);
  std::vector<std::uint8_t> padding;
  try {
    padding = probe.channel().receive(EXPORT_NAME_REPLY_PADDING,
                                      "the 124 zero bytes after the export reply");
  } catch (const ProbeError& e) {
    if (e.kind() != ProbeError::Kind::Timeout) throw;
    return ctx.fail("fewer than 124 bytes followed the reply to NBD_OPT_EXPORT_NAME", required);
  }
  probe.transcript().received("padding after the reply to NBD_OPT_EXPORT_NAME", padding);
  if (std::any_of(padding.begin(), padding.end(), [](std::uint8_t b) { return b != 0; })) {
    return ctx.fail("the 124 bytes after the reply to NBD_OPT_EXPORT_NAME are not all zero",
                    required);
  }
  return ctx.pass();
}

// S-INT-011 (proto.md "Maximum interoperability").
Outcome export_name_supported(CheckContext& ctx) {
  Probe probe = ctx.connect_newstyle();
  send_export_name(probe, ctx.export_name());
  probe.read_export_name_reply(true);
  return ctx.pass();
}

// S-TX-015, S-TX-019, S-TX-023, X-S-009, X-S-010 (proto.md "Transmission
// flags"; the extended-headers text, same section), S-SR-012, X-S-016,
// X-S-027 ("NBD_OPT_STRUCTURED_REPLY", "NBD_OPT_EXTENDED_HEADERS": nothing
// needing reply or request payloads is advertised before they are
// negotiated).
Outcome export_name_flags(CheckContext& ctx) {
  Probe probe = ctx.connect_newstyle();
  send_export_name(probe, ctx.export_name());
  const ExportNameAnswer answer = probe.read_export_name_reply(true);
  if (auto problem = transmission_flag_problem(answer.reply.transmission_flags, false)) {
    return ctx.fail("in the reply to NBD_OPT_EXPORT_NAME, " + *problem,
                    "transmission flags are consistent with what was negotiated");
  }
  return ctx.pass();
}

// S-HS-005, S-HS-008 (proto.md "Newstyle negotiation", "Termination of the
// session during option haggling").
Outcome export_name_unknown(CheckContext& ctx) {
  const std::string name(kUnlikelyExportName);
  if (!export_is_unknown(ctx, name)) {
    return ctx.not_applicable("NBD_OPT_INFO does not say that export " + quoted(name) +
                              " is unknown (the server may serve any name)");
  }
  Probe probe = ctx.connect_newstyle();
  send_export_name(probe, name);
  const ByteChannel::CloseWait wait = probe.channel().await_close(kCloseWait);
  const std::string required =
      "a server refusing the export named by NBD_OPT_EXPORT_NAME ends the session by "
      "closing the connection, sending nothing [S-HS-005, S-HS-008]";
  if (!wait.bytes.empty()) {
    return ctx.fail("the server sent " + std::to_string(wait.bytes.size()) +
                        " bytes for an export it does not have",
                    required);
  }
  if (!wait.closed) return ctx.fail("the connection stayed open", required);
  return ctx.pass();
}

// S-TLS-007 (proto.md "Server-side requirements"): without fixed newstyle
// on both sides the server is in NOTLS mode.
Outcome no_tls_without_fixed_newstyle(CheckContext& ctx) {
  Probe probe = ctx.connect();
  newstyle_greeting(probe);
  probe.send_client_flags(0);
  OptionReply reply;
  try {
    probe.send_option(NBD_OPT_STARTTLS, {});
    reply = probe.read_option_reply(NBD_OPT_STARTTLS);
  } catch (const ProbeError& e) {
    // S-HS-019: the server may also refuse a client without fixed newstyle.
    if (e.kind() != ProbeError::Kind::Closed) throw;
    return ctx.pass("the server closed the connection");
  }
  if (reply.type == NBD_REP_ACK) {
    return ctx.fail(
        "NBD_OPT_STARTTLS was acknowledged although the client did not set "
        "NBD_FLAG_C_FIXED_NEWSTYLE",
        "without fixed newstyle on both sides the server operates without TLS "
        "[S-TLS-007]");
  }
  return ctx.pass("answered " + reply.describe());
}

}  // namespace

void add_handshake_checks(Catalogue& c) {
  const std::string area = "handshake";
  c.add({"hs.newstyle-greeting",
         area,
         {"S-INT-002", "S-HS-002"},
         Level::Must,
         "the greeting is NBDMAGIC then IHAVEOPT (newstyle), not the oldstyle magic",
         &newstyle_greeting_check});
  c.add({"hs.fixed-newstyle-flag",
         area,
         {"S-HS-014", "S-OPT-003"},
         Level::Must,
         "the handshake flags include NBD_FLAG_FIXED_NEWSTYLE",
         &fixed_newstyle_flag});
  c.add({"hs.reserved-flags-clear",
         area,
         {"S-HS-016"},
         Level::MustNot,
         "handshake flag bits 2-15 are clear",
         &reserved_handshake_flags});
  c.add({"hs.oldstyle-no-handshake-flags",
         area,
         {"S-HS-018"},
         Level::MustNot,
         "an oldstyle greeting sets no handshake flags",
         &oldstyle_handshake_flags});
  c.add({"hs.unknown-client-flag-closes",
         area,
         {"S-HS-004"},
         Level::Must,
         "client flags with an unknown bit make the server close the connection",
         &unknown_client_flag});
  c.add({"hs.unadvertised-no-zeroes-closes",
         area,
         {"S-HS-020"},
         Level::Must,
         "NBD_FLAG_C_NO_ZEROES without NBD_FLAG_NO_ZEROES makes the server close the connection",
         &unadvertised_no_zeroes});
  c.add({"hs.no-zeroes-honoured",
         area,
         {"S-HS-015"},
         Level::MustNot,
         "with NO_ZEROES agreed, no padding follows the NBD_OPT_EXPORT_NAME reply",
         &no_zeroes_honoured});
  c.add({"hs.zeroes-without-no-zeroes",
         area,
         {"S-HS-017"},
         Level::ShouldNot,
         "without NBD_FLAG_C_NO_ZEROES, 124 zero bytes follow the NBD_OPT_EXPORT_NAME reply",
         &zeroes_without_no_zeroes});
  c.add({"hs.export-name-supported",
         area,
         {"S-INT-011"},
         Level::Should,
         "NBD_OPT_EXPORT_NAME for the target export enters transmission",
         &export_name_supported});
  c.add(
      {"hs.export-name-flags",
       area,
       {"S-TX-015", "S-TX-019", "S-TX-023", "X-S-009", "X-S-010", "S-SR-012", "X-S-016", "X-S-027"},
       Level::Must,
       "the NBD_OPT_EXPORT_NAME reply's transmission flags have HAS_FLAGS and no flag that "
       "needs an unnegotiated feature",
       &export_name_flags});
  c.add({"hs.export-name-unknown-closes",
         area,
         {"S-HS-005", "S-HS-008"},
         Level::Must,
         "NBD_OPT_EXPORT_NAME for an unknown export ends the session with no reply",
         &export_name_unknown});
  c.add({"hs.no-tls-without-fixed-newstyle",
         area,
         {"S-TLS-007"},
         Level::Must,
         "without NBD_FLAG_C_FIXED_NEWSTYLE, NBD_OPT_STARTTLS is not acknowledged",
         &no_tls_without_fixed_newstyle});
}

}  // namespace nbdref::conform
