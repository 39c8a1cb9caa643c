// Checks of TLS (proto.md "TLS support", "NBD_OPT_STARTTLS", "Termination of
// the session during option haggling", "Terminating the transmission
// phase"): STARTTLS and the handshake, what a server answers before TLS
// (FORCEDTLS: NBD_REP_ERR_TLS_REQD to everything; SELECTIVETLS: only for
// TLS-only exports), that nothing is required after it, that earlier
// negotiation is forgotten, the TLS versions offered, a handshake that is
// not one, and close_notify when the server ends the session. They need a
// TLS target (an nbds URI, or nbdref-conform's TLS options); without one
// they do not apply. A plaintext server's refusal of STARTTLS is checked
// in options.cpp.
#include <cstdio>

#include "checks/areas.hpp"
#include "checks/check_support.hpp"
#include "checks/transmission_support.hpp"
#include "probe/printable.hpp"
#include "probe/probe_error.hpp"
#include "runner/check_context.hpp"
#include "wire/bytes.hpp"
#include "wire/constants.hpp"

namespace nbdref::conform {
namespace {

using namespace wire;

// How long a check waits for the server to end a session it should end.
constexpr auto kCloseWait = std::chrono::seconds(3);

void require_tls_target(const CheckContext& ctx) {
  if (!ctx.target().tls) {
    throw CheckAbort{Status::NotApplicable,
                     "the target offers no TLS credentials (give an nbds URI, or "
                     "--tls-certificates / --tls-psk-file)"};
  }
}

// NBD_OPT_STARTTLS with no data; aborts as an error unless it is acknowledged
// with exactly one NBD_REP_ACK (the checks of that acknowledgement are
// tls.starttls-ack's).
void expect_starttls_ack(Probe& probe) {
  const OptionReplies r = probe.request_option(NBD_OPT_STARTTLS);
  if (r.size() != 1 || r.back().type != NBD_REP_ACK) {
    throw CheckAbort{Status::Error,
                     "the TLS target did not acknowledge NBD_OPT_STARTTLS: " + reply_types(r)};
  }
}

// Whether the server refuses options before TLS as a FORCEDTLS server does:
// NBD_OPT_LIST (which a SELECTIVETLS server answers, proto.md "SELECTIVETLS
// mode") is answered NBD_REP_ERR_TLS_REQD.
bool forced_tls(Probe& probe) {
  return probe.request_option(NBD_OPT_LIST).back().type == NBD_REP_ERR_TLS_REQD;
}

std::size_t count_type(const OptionReplies& r, std::uint32_t type) {
  std::size_t n = 0;
  for (const OptionReply& reply : r) n += reply.type == type;
  return n;
}

// Reads the answer to an option that must have been answered in full,
// turning a timeout into a failure that says so.
OptionReplies answer_to(Probe& probe, std::uint32_t option) {
  return expect_answer(describe_option(option), [&] { return probe.read_option_replies(option); });
}

// An option's request with no decoder behind it: IHAVEOPT, option, length.
std::vector<std::uint8_t> raw_option(std::uint64_t magic, std::uint32_t option) {
  std::vector<std::uint8_t> bytes(16);
  store_be64(bytes.data(), magic);
  store_be32(bytes.data() + 8, option);
  store_be32(bytes.data() + 12, 0);
  return bytes;
}

std::string hex32(std::uint32_t v) {
  char text[9];
  std::snprintf(text, sizeof text, "%08x", v);
  return text;
}

// Whether `bytes` hold an option reply's magic anywhere: plaintext NBD.
bool holds_option_reply(const std::vector<std::uint8_t>& bytes) {
  for (std::size_t i = 0; i + 8 <= bytes.size(); ++i) {
    if (load_be64(bytes.data() + i) == OPTION_REPLY_MAGIC) return true;
  }
  return false;
}

// ---- STARTTLS and the handshake

// S-TLS-010, S-TLS-020, S-TLS-032 (proto.md "FORCEDTLS mode", "SELECTIVETLS
// mode", "NBD_OPT_STARTTLS"), S-TLS-012, S-TLS-013 (the handshake at once,
// then everything under TLS).
Outcome starttls_ack(CheckContext& ctx) {
  require_tls_target(ctx);
  Probe probe = ctx.connect_plaintext();
  const OptionReplies r = probe.request_option(NBD_OPT_STARTTLS);
  if (r.size() != 1 || r.back().type != NBD_REP_ACK || !r.back().payload.empty()) {
    return ctx.fail("NBD_OPT_STARTTLS was answered " + reply_types(r) +
                        (r.back().payload.empty() ? "" : " with a payload"),
                    "a server offering TLS answers the first NBD_OPT_STARTTLS with one "
                    "NBD_REP_ACK and no data [S-TLS-010, S-TLS-020, S-TLS-032]");
  }
  const TlsHandshake h = probe.channel().start_tls(*ctx.target().tls, TlsVersions::Current);
  if (!h.established()) {
    return ctx.fail("after the NBD_REP_ACK the TLS handshake failed: " + h.why,
                    "after acknowledging NBD_OPT_STARTTLS the server is ready for the TLS "
                    "handshake at once [S-TLS-012]");
  }
  const OptionReplies info = expect_in_step(ctx, probe);
  if (info.back().type == NBD_REP_ERR_TLS_REQD) {
    return ctx.fail("under TLS, NBD_OPT_INFO was answered " + info.back().describe(),
                    "after STARTTLS, options travel under TLS and are answered [S-TLS-013]");
  }
  return ctx.pass(probe.channel().tls()->describe_session());
}

// S-TLS-032 (proto.md "NBD_OPT_STARTTLS": NBD_REP_ERR_INVALID if the client
// included data), S-HS-007 ("Termination of the session during option
// haggling": data with STARTTLS breaks a client MUST, so the server may end
// the session instead of going on).
Outcome starttls_with_data(CheckContext& ctx) {
  require_tls_target(ctx);
  Probe probe = ctx.connect_plaintext();
  const std::vector<std::uint8_t> data = {0x6e, 0x62, 0x64, 0x72};
  probe.send_option(NBD_OPT_STARTTLS, data, "4 bytes of data the option must not carry");
  const std::string required =
      "NBD_OPT_STARTTLS carrying data is refused with NBD_REP_ERR_INVALID (or the session "
      "ended, S-HS-007), never acknowledged [S-TLS-032]";
  OptionReplies r;
  try {
    r = answer_to(probe, NBD_OPT_STARTTLS);
  } catch (const ProbeError& e) {
    if (e.kind() != ProbeError::Kind::Closed) throw;
    return ctx.pass("the server ended the session (a hard disconnect, S-HS-007)");
  }
  if (r.size() != 1 || r.back().type != NBD_REP_ERR_INVALID) {
    return ctx.fail("NBD_OPT_STARTTLS with 4 bytes of data was answered " + reply_types(r),
                    required);
  }
  // A server that goes on is still in plaintext and in step: a proper
  // STARTTLS now works.
  OptionReplies again;
  try {
    again = probe.request_option(NBD_OPT_STARTTLS);
  } catch (const ProbeError& e) {
    if (e.kind() != ProbeError::Kind::Closed) throw;
    return ctx.pass("refused with NBD_REP_ERR_INVALID, then the session ended (S-HS-007)");
  }
  if (again.size() != 1 || again.back().type != NBD_REP_ACK) {
    return ctx.fail(
        "after the refusal, a proper NBD_OPT_STARTTLS was answered " + reply_types(again),
        "after refusing NBD_OPT_STARTTLS with data, the server goes on in plaintext "
        "and accepts a proper one [S-TLS-032]");
  }
  const TlsHandshake h = probe.channel().start_tls(*ctx.target().tls, TlsVersions::Current);
  if (!h.established()) {
    return ctx.fail(
        "after the refusal, a proper NBD_OPT_STARTTLS was acknowledged but the "
        "handshake failed: " +
            h.why,
        "after acknowledging NBD_OPT_STARTTLS the server is ready for the TLS "
        "handshake at once [S-TLS-012]");
  }
  return ctx.pass();
}

// S-TLS-011, S-TLS-021 (proto.md "FORCEDTLS mode", "SELECTIVETLS mode").
Outcome starttls_twice(CheckContext& ctx) {
  require_tls_target(ctx);
  Probe probe = ctx.connect_newstyle();
  probe.send_option(NBD_OPT_STARTTLS, {});
  const OptionReplies r = answer_to(probe, NBD_OPT_STARTTLS);
  if (r.size() != 1 || r.back().type != NBD_REP_ERR_INVALID) {
    return ctx.fail("NBD_OPT_STARTTLS under TLS was answered " + reply_types(r),
                    "NBD_OPT_STARTTLS once TLS is up is answered NBD_REP_ERR_INVALID [S-TLS-011, "
                    "S-TLS-021]");
  }
  expect_in_step(ctx, probe);
  return ctx.pass();
}

// ---- before TLS

// S-TLS-016, S-TLS-026, S-TLS-034, S-TLS-006 (proto.md "FORCEDTLS mode",
// "SELECTIVETLS mode", "NBD_OPT_INFO and NBD_OPT_GO", "Server-side
// requirements"): before TLS a FORCEDTLS server answers every option but
// STARTTLS and ABORT with NBD_REP_ERR_TLS_REQD (and no NBD_REP_INFO first);
// a SELECTIVETLS server uses it only for NBD_OPT_INFO/GO. Either way the
// mode stays the same for the whole connection.
Outcome options_before_tls(CheckContext& ctx) {
  require_tls_target(ctx);
  Probe probe = ctx.connect_plaintext();
  struct Asked {
    std::string what;
    OptionReplies replies;
  };
  std::vector<Asked> others;  // neither INFO nor GO
  others.push_back({"NBD_OPT_LIST", probe.request_option(NBD_OPT_LIST)});
  others.push_back({"NBD_OPT_STRUCTURED_REPLY", probe.request_option(NBD_OPT_STRUCTURED_REPLY)});
  others.push_back({"NBD_OPT_LIST_META_CONTEXT",
                    probe.request_meta_context(NBD_OPT_LIST_META_CONTEXT, ctx.export_name(),
                                               {"base:allocation"})});
  others.push_back({"an unknown option", probe.request_option(kUnassignedOption)});
  const OptionReplies info = probe.request_info(NBD_OPT_INFO, ctx.export_name());
  // S-TLS-006: the same question again, late in the connection.
  const OptionReplies list_again = probe.request_option(NBD_OPT_LIST);

  std::size_t refused = 0;
  std::string answers;
  for (const Asked& a : others) {
    refused += a.replies.back().type == NBD_REP_ERR_TLS_REQD;
    answers += (answers.empty() ? "" : "; ") + a.what + ": " + reply_types(a.replies);
  }
  if (refused != 0 && refused != others.size()) {
    return ctx.fail(
        "before TLS, only some options were refused with NBD_REP_ERR_TLS_REQD (" + answers + ")",
        "a FORCEDTLS server answers every option but STARTTLS and ABORT with "
        "NBD_REP_ERR_TLS_REQD [S-TLS-016]; a SELECTIVETLS server uses it for "
        "NBD_OPT_INFO/GO only [S-TLS-026]");
  }
  const bool forced = refused == others.size();
  if ((list_again.back().type == NBD_REP_ERR_TLS_REQD) != forced) {
    return ctx.fail("NBD_OPT_LIST was answered " + reply_types(others.front().replies) +
                        " first and " + reply_types(list_again) + " later on the same connection",
                    "the TLS mode stays the same for the whole connection [S-TLS-006]");
  }
  if (!forced) {
    return ctx.pass("SELECTIVETLS: options are answered before TLS (" + answers + ")");
  }
  if (info.back().type != NBD_REP_ERR_TLS_REQD || count_type(info, NBD_REP_INFO) != 0) {
    return ctx.fail(
        "FORCEDTLS (every other option got NBD_REP_ERR_TLS_REQD), yet NBD_OPT_INFO "
        "before TLS was answered " +
            reply_types(info),
        "a FORCEDTLS server answers NBD_OPT_INFO before TLS with "
        "NBD_REP_ERR_TLS_REQD and no NBD_REP_INFO first [S-TLS-016, S-TLS-034]");
  }
  return ctx.pass("FORCEDTLS");
}

// S-TLS-018, S-TLS-023, S-TLS-034, S-TLS-037 (proto.md "FORCEDTLS mode",
// "SELECTIVETLS mode", "NBD_OPT_INFO and NBD_OPT_GO").
Outcome go_before_tls(CheckContext& ctx) {
  require_tls_target(ctx);
  Probe probe = ctx.connect_plaintext();
  const bool forced = forced_tls(probe);
  const OptionReplies go = probe.request_info(NBD_OPT_GO, ctx.export_name());
  if (go.back().type == NBD_REP_ACK) {
    if (forced) {
      return ctx.fail(
          "NBD_OPT_LIST got NBD_REP_ERR_TLS_REQD, yet NBD_OPT_GO opened the export "
          "without TLS",
          "a FORCEDTLS server answers NBD_OPT_GO before TLS with "
          "NBD_REP_ERR_TLS_REQD [S-TLS-018]");
    }
    return ctx.not_applicable("SELECTIVETLS: the server serves this export without TLS");
  }
  if (go.back().type != NBD_REP_ERR_TLS_REQD) {
    return ctx.fail(
        "NBD_OPT_GO before TLS, for an export served under TLS, was answered " + reply_types(go),
        "before TLS, NBD_OPT_GO for an export the server serves only under TLS is "
        "answered NBD_REP_ERR_TLS_REQD [S-TLS-018, S-TLS-023]");
  }
  if (forced && count_type(go, NBD_REP_INFO) != 0) {
    return ctx.fail("a FORCEDTLS server answered NBD_OPT_GO before TLS with " + reply_types(go),
                    "a FORCEDTLS server sends no NBD_REP_INFO before NBD_REP_ERR_TLS_REQD "
                    "[S-TLS-034]");
  }
  if (!forced && count_type(go, NBD_REP_INFO) != 0) {
    // S-TLS-037: a SELECTIVETLS server that hides which exports exist
    // (unknown ones get NBD_REP_ERR_TLS_REQD too) gives nothing away about
    // a TLS-only one either.
    const OptionReplies unknown = probe.request_info(NBD_OPT_INFO, kUnlikelyExportName);
    if (unknown.back().type == NBD_REP_ERR_TLS_REQD) {
      return ctx.fail(
          "before TLS, an unknown export got NBD_REP_ERR_TLS_REQD (hiding which "
          "exports exist), yet NBD_OPT_GO for the TLS-only export was answered " +
              reply_types(go),
          "a SELECTIVETLS server that hides unknown exports behind "
          "NBD_REP_ERR_TLS_REQD sends no NBD_REP_INFO for TLS-only exports before "
          "TLS [S-TLS-037]");
    }
  }
  expect_in_step(ctx, probe);
  return ctx.pass(forced ? "FORCEDTLS" : "SELECTIVETLS, TLS-only export");
}

// S-TLS-017, S-TLS-024, S-HS-005 (proto.md "FORCEDTLS mode", "SELECTIVETLS
// mode", "Newstyle negotiation").
Outcome export_name_before_tls(CheckContext& ctx) {
  require_tls_target(ctx);
  Probe probe = ctx.connect_plaintext();
  const bool forced = forced_tls(probe);
  probe.send_option(NBD_OPT_EXPORT_NAME, as_bytes(ctx.export_name()),
                    "export " + quoted(ctx.export_name()));
  const ByteChannel::CloseWait wait = probe.channel().await_close(kCloseWait);
  const std::string required =
      "NBD_OPT_EXPORT_NAME before TLS, for an export served only under TLS, makes the server "
      "end the session without sending anything [S-TLS-017, S-TLS-024, S-HS-005]";
  if (!wait.bytes.empty()) {
    if (!forced) {
      return ctx.not_applicable("SELECTIVETLS: the server serves this export without TLS");
    }
    return ctx.fail("a FORCEDTLS server (NBD_OPT_LIST got NBD_REP_ERR_TLS_REQD) sent " +
                        std::to_string(wait.bytes.size()) +
                        " bytes in reply to NBD_OPT_EXPORT_NAME before TLS",
                    required);
  }
  if (!wait.closed) {
    return ctx.fail("the connection stayed open after NBD_OPT_EXPORT_NAME before TLS", required);
  }
  return ctx.pass();
}

// ---- under TLS

// S-TLS-019, S-TLS-025 (proto.md "FORCEDTLS mode", "SELECTIVETLS mode").
Outcome no_tls_reqd_after_tls(CheckContext& ctx) {
  require_tls_target(ctx);
  Probe probe = ctx.connect_newstyle();
  std::vector<OptionReplies> answers;
  answers.push_back(probe.request_option(NBD_OPT_LIST));
  answers.push_back(probe.request_info(NBD_OPT_INFO, ctx.export_name()));
  answers.push_back(probe.request_info(NBD_OPT_INFO, kUnlikelyExportName));
  answers.push_back(probe.request_option(kUnassignedOption));
  answers.push_back(probe.request_option(NBD_OPT_STRUCTURED_REPLY));
  answers.push_back(probe.request_meta_context(NBD_OPT_LIST_META_CONTEXT, ctx.export_name(),
                                               {"base:allocation"}));
  answers.push_back(
      probe.request_meta_context(NBD_OPT_SET_META_CONTEXT, ctx.export_name(), {"base:allocation"}));
  answers.push_back(probe.request_info(NBD_OPT_GO, ctx.export_name()));
  for (const OptionReplies& r : answers) {
    if (r.back().type == NBD_REP_ERR_TLS_REQD) {
      return ctx.fail("under TLS the server answered " + r.back().describe(),
                      "once TLS is up, NBD_REP_ERR_TLS_REQD is never sent [S-TLS-019, "
                      "S-TLS-025]");
    }
  }
  if (answers.back().back().type == NBD_REP_ACK) {
    // In transmission now: leave cleanly.
    probe.send_request(NBD_CMD_DISC, 0, 0, 0);
  }
  return ctx.pass();
}

// S-TLS-033, X-S-012 (proto.md "NBD_OPT_STARTTLS", extended headers'
// "NBD_OPT_STARTTLS"): what was negotiated before STARTTLS is forgotten, so
// a READ after GO under TLS without renegotiating gets a simple reply to a
// compact request.
Outcome negotiation_forgotten(CheckContext& ctx) {
  require_tls_target(ctx);
  Probe probe = ctx.connect_plaintext();
  std::vector<std::string> acknowledged;
  if (probe.request_option(NBD_OPT_STRUCTURED_REPLY).back().type == NBD_REP_ACK) {
    acknowledged.push_back("NBD_OPT_STRUCTURED_REPLY");
  }
  if (probe.request_option(NBD_OPT_EXTENDED_HEADERS).back().type == NBD_REP_ACK) {
    acknowledged.push_back("NBD_OPT_EXTENDED_HEADERS");
  }
  if (acknowledged.empty()) {
    return ctx.not_applicable(
        "the server negotiates neither structured replies nor extended headers before TLS: "
        "there is nothing to forget");
  }
  std::string what;
  for (const std::string& a : acknowledged) what += (what.empty() ? "" : " and ") + a;
  expect_starttls_ack(probe);
  const TlsHandshake h = probe.channel().start_tls(*ctx.target().tls, TlsVersions::Current);
  if (!h.established()) throw CheckAbort{Status::Error, "cannot negotiate TLS: " + h.why};
  // The probe forgot them at the ACK: this GO and READ take the plain forms.
  const OptionReplies go = probe.request_info(NBD_OPT_GO, ctx.export_name());
  if (go.back().type != NBD_REP_ACK) {
    throw CheckAbort{Status::Error, "cannot open the export: " + go.back().describe()};
  }
  const auto infos = decode_infos(go);
  const auto info = find_export_info(infos);
  const std::string required =
      "after STARTTLS the server keeps no earlier negotiation state: " + what +
      " acknowledged in plaintext no longer applies [S-TLS-033, "
      "X-S-012]";
  if (info && (info->transmission_flags & NBD_FLAG_SEND_DF)) {
    return ctx.fail(
        "NBD_OPT_GO under TLS advertised NBD_FLAG_SEND_DF, which needs structured "
        "replies, negotiated only before TLS",
        required);
  }
  const auto request = probe.send_request(NBD_CMD_READ, 0, 0, 512);
  const auto magic = expect_answer("a compact NBD_CMD_READ under TLS",
                                   [&] { return probe.channel().receive(4, "the reply magic"); });
  probe.transcript().received("reply magic", magic);
  if (load_be32(magic.data()) != NBD_SIMPLE_REPLY_MAGIC) {
    return ctx.fail("a READ after " + what +
                        " in plaintext, then STARTTLS and GO, got a reply "
                        "with magic 0x" +
                        hex32(load_be32(magic.data())) + " instead of a simple reply",
                    required);
  }
  finish_simple_reply(probe, request);
  probe.send_request(NBD_CMD_DISC, 0, 0, 0);
  return ctx.pass(what + " forgotten");
}

// S-TLS-013 (proto.md "FORCEDTLS mode": after the ACK everything is TLS):
// a write and the read back, both through TLS, in records of all sizes.
Outcome transmission_over_tls(CheckContext& ctx) {
  require_tls_target(ctx);
  OpenExport e = ctx.open_export();
  const std::uint64_t at = ctx.scratch_offset(e.size);
  // 100 KiB: more than one TLS record (16 KiB each) and an odd size, in
  // requests within the maximum payload (C-SZ-008).
  constexpr std::size_t kLength = 100 * 1024 + 17;
  const std::uint64_t limit = payload_limit(ctx);
  std::vector<std::uint8_t> expected;
  if (!(e.flags & NBD_FLAG_READ_ONLY)) {
    expected = test_pattern(kLength, 0);
    const TransmissionReply w = write_in_pieces(e.probe, at, expected, limit);
    if (w.error() != 0) {
      return ctx.fail("a WRITE under TLS failed: " + w.describe(),
                      "transmission works under TLS as without it [S-TLS-013]");
    }
  }
  const TransmissionReply r = read_in_pieces(e.probe, at, kLength, limit);
  if (r.error() != 0 || r.data.size() != kLength) {
    return ctx.fail("a READ of " + std::to_string(kLength) + " bytes under TLS got " + r.describe(),
                    "transmission works under TLS as without it [S-TLS-013]");
  }
  if (!expected.empty() && r.data != expected) {
    return ctx.fail("a READ under TLS returned other data than the WRITE before it",
                    "transmission works under TLS as without it [S-TLS-013]");
  }
  e.probe.send_request(NBD_CMD_DISC, 0, 0, 0);
  return ctx.pass(expected.empty() ? "read-only export: read only" : "");
}

// ---- ending a session under TLS

// S-TX-006, S-TX-040 (proto.md "Terminating the transmission phase",
// "NBD_CMD_DISC").
Outcome disc_close_notify(CheckContext& ctx) {
  require_tls_target(ctx);
  OpenExport e = ctx.open_export();
  e.probe.send_request(NBD_CMD_DISC, 0, 0, 0);
  const ByteChannel::CloseWait wait = e.probe.channel().await_close(kCloseWait);
  const std::string required =
      "on NBD_CMD_DISC the server shuts TLS down (close_notify), then closes the connection "
      "[S-TX-006, S-TX-040]";
  if (!wait.closed) return ctx.fail("the session stayed open after NBD_CMD_DISC", required);
  if (!wait.close_notify) {
    return ctx.fail("the server closed the connection without TLS close_notify", required);
  }
  return ctx.pass();
}

// Sends `bytes` (which should make the server drop the connection) and
// judges the drop: close_notify first, as `required` asks. Not applicable
// when the server does not drop the connection.
Outcome expect_close_notify_on_drop(CheckContext& ctx, Probe& probe,
                                    const std::vector<std::uint8_t>& bytes,
                                    const std::string& description, const std::string& required) {
  try {
    probe.send_raw(bytes, description);
  } catch (const ProbeError& e) {
    if (e.kind() != ProbeError::Kind::Closed) throw;
    return ctx.fail("the server closed the connection before reading " + description, required);
  }
  const ByteChannel::CloseWait wait = probe.channel().await_close(kCloseWait);
  if (!wait.closed) {
    return ctx.not_applicable("the server did not drop the connection after " + description);
  }
  if (!wait.close_notify) {
    return ctx.fail(
        "the server dropped the connection after " + description + " without TLS close_notify",
        required);
  }
  return ctx.pass();
}

// S-HS-006 (proto.md "Termination of the session during option haggling").
Outcome haggling_drop_close_notify(CheckContext& ctx) {
  require_tls_target(ctx);
  Probe probe = ctx.connect_newstyle();
  return expect_close_notify_on_drop(
      ctx, probe, raw_option(NBDMAGIC, NBD_OPT_LIST),
      "an option with the wrong magic (NBDMAGIC instead of IHAVEOPT)",
      "a server ending the session during option haggling shuts TLS down first [S-HS-006]");
}

// S-TX-007 (proto.md "Terminating the transmission phase").
Outcome transmission_drop_close_notify(CheckContext& ctx) {
  require_tls_target(ctx);
  OpenExport e = ctx.open_export();
  std::vector<std::uint8_t> request(28);
  store_be32(request.data(), 0x4e425246);  // not NBD_REQUEST_MAGIC
  store_be16(request.data() + 6, NBD_CMD_READ);
  store_be32(request.data() + 24, 512);
  return expect_close_notify_on_drop(
      ctx, e.probe, request, "a request with a wrong magic",
      "a server dropping the connection in transmission shuts TLS down first [S-TX-007]");
}

// ---- TLS versions and broken handshakes

// STARTTLS, then a handshake offering only `versions`.
TlsHandshake handshake_offering(CheckContext& ctx, Probe& probe, TlsVersions versions) {
  require_tls_target(ctx);
  expect_starttls_ack(probe);
  return probe.channel().start_tls(*ctx.target().tls, versions);
}

// S-TLS-028 (proto.md "TLS versions").
Outcome tls12_supported(CheckContext& ctx) {
  require_tls_target(ctx);
  Probe probe = ctx.connect_plaintext();
  const TlsHandshake h = handshake_offering(ctx, probe, TlsVersions::Only12);
  if (!h.established()) {
    return ctx.fail("a handshake offering TLS 1.2 only failed: " + h.why,
                    "a server offering TLS supports TLS 1.2 [S-TLS-028]");
  }
  expect_in_step(ctx, probe);
  return ctx.pass(probe.channel().tls()->describe_session());
}

// S-TLS-029 (proto.md "TLS versions").
Outcome tls13_supported(CheckContext& ctx) {
  require_tls_target(ctx);
  Probe probe = ctx.connect_plaintext();
  const TlsHandshake h = handshake_offering(ctx, probe, TlsVersions::Only13);
  if (!h.established()) {
    return ctx.fail("a handshake offering TLS 1.3 only failed: " + h.why,
                    "a server offering TLS should support newer versions than 1.2 (TLS 1.3) "
                    "[S-TLS-029]");
  }
  expect_in_step(ctx, probe);
  return ctx.pass(probe.channel().tls()->describe_session());
}

// S-TLS-030 (proto.md "TLS versions").
Outcome no_legacy_versions(CheckContext& ctx) {
  require_tls_target(ctx);
  Probe probe = ctx.connect_plaintext();
  const TlsHandshake h = handshake_offering(ctx, probe, TlsVersions::Legacy);
  if (h.established()) {
    return ctx.fail("a handshake offering only TLS 1.1 and 1.0 succeeded: " +
                        probe.channel().tls()->describe_session(),
                    "versions before TLS 1.2 are not enabled [S-TLS-030]");
  }
  if (h.ending == TlsHandshake::Ending::Failed) {
    throw CheckAbort{Status::Error, "the handshake failed on the client's side: " + h.why};
  }
  return ctx.pass(h.why);
}

// S-TLS-015, S-TLS-013 (proto.md "FORCEDTLS mode"): after the ACK, an NBD
// option instead of a ClientHello ends the session; the server never goes
// back to plaintext.
Outcome garbage_instead_of_handshake(CheckContext& ctx) {
  require_tls_target(ctx);
  Probe probe = ctx.connect_plaintext();
  expect_starttls_ack(probe);
  const std::string required =
      "a failed TLS handshake ends the session; the server never resumes plaintext option "
      "processing [S-TLS-015, S-TLS-013]";
  try {
    probe.send_raw(raw_option(IHAVEOPT, NBD_OPT_LIST),
                   "NBD_OPT_LIST in plaintext instead of a "
                   "TLS ClientHello");
  } catch (const ProbeError& e) {
    if (e.kind() != ProbeError::Kind::Closed) throw;
    return ctx.pass();
  }
  const ByteChannel::CloseWait wait = probe.channel().await_close(kCloseWait);
  if (holds_option_reply(wait.bytes)) {
    return ctx.fail(
        "the server answered a plaintext NBD_OPT_LIST after acknowledging "
        "NBD_OPT_STARTTLS",
        required);
  }
  if (!wait.closed) {
    return ctx.fail("the connection stayed open after bytes that are not a TLS handshake",
                    required);
  }
  return ctx.pass();
}

}  // namespace

void add_tls_checks(Catalogue& c) {
  const std::string area = "tls";
  c.add({"tls.starttls-ack",
         area,
         {"S-TLS-010", "S-TLS-020", "S-TLS-032", "S-TLS-012", "S-TLS-013"},
         Level::Must,
         "NBD_OPT_STARTTLS is acknowledged with one empty NBD_REP_ACK and the TLS handshake "
         "follows at once",
         &starttls_ack});
  c.add({"tls.starttls-with-data",
         area,
         {"S-TLS-032", "S-HS-007"},
         Level::Must,
         "NBD_OPT_STARTTLS carrying data is refused with NBD_REP_ERR_INVALID (or the session "
         "ended), never acknowledged",
         &starttls_with_data});
  c.add({"tls.starttls-twice",
         area,
         {"S-TLS-011", "S-TLS-021"},
         Level::Must,
         "NBD_OPT_STARTTLS under TLS is answered NBD_REP_ERR_INVALID",
         &starttls_twice});
  c.add({"tls.options-before-tls",
         area,
         {"S-TLS-016", "S-TLS-026", "S-TLS-034", "S-TLS-006"},
         Level::Must,
         "before TLS, NBD_REP_ERR_TLS_REQD answers every option (FORCEDTLS) or only INFO/GO "
         "(SELECTIVETLS), the same all connection long",
         &options_before_tls});
  c.add({"tls.go-before-tls",
         area,
         {"S-TLS-018", "S-TLS-023", "S-TLS-034", "S-TLS-037"},
         Level::Must,
         "NBD_OPT_GO before TLS for an export served under TLS gets NBD_REP_ERR_TLS_REQD",
         &go_before_tls});
  c.add({"tls.export-name-before-tls",
         area,
         {"S-TLS-017", "S-TLS-024", "S-HS-005"},
         Level::Must,
         "NBD_OPT_EXPORT_NAME before TLS for an export served under TLS ends the session "
         "silently",
         &export_name_before_tls});
  c.add({"tls.no-tls-reqd-after-tls",
         area,
         {"S-TLS-019", "S-TLS-025"},
         Level::MustNot,
         "once TLS is up, no option is answered NBD_REP_ERR_TLS_REQD",
         &no_tls_reqd_after_tls});
  c.add({"tls.negotiation-forgotten",
         area,
         {"S-TLS-033", "X-S-012"},
         Level::MustNot,
         "structured replies and extended headers negotiated before STARTTLS do not carry over",
         &negotiation_forgotten});
  c.add({"tls.transmission",
         area,
         {"S-TLS-013"},
         Level::Must,
         "writes and reads of several TLS records' worth work under TLS",
         &transmission_over_tls});
  c.add({"tls.disc-close-notify",
         area,
         {"S-TX-006", "S-TX-040"},
         Level::Must,
         "on NBD_CMD_DISC the server sends TLS close_notify, then closes",
         &disc_close_notify});
  c.add({"tls.haggling-drop-close-notify",
         area,
         {"S-HS-006"},
         Level::Should,
         "a server dropping the session during option haggling sends close_notify first",
         &haggling_drop_close_notify});
  c.add({"tls.transmission-drop-close-notify",
         area,
         {"S-TX-007"},
         Level::Should,
         "a server dropping the connection in transmission sends close_notify first",
         &transmission_drop_close_notify});
  c.add({"tls.tls12",
         area,
         {"S-TLS-028"},
         Level::Must,
         "a handshake offering only TLS 1.2 succeeds",
         &tls12_supported});
  c.add({"tls.tls13",
         area,
         {"S-TLS-029"},
         Level::Should,
         "a handshake offering only TLS 1.3 succeeds",
         &tls13_supported});
  c.add({"tls.no-legacy-versions",
         area,
         {"S-TLS-030"},
         Level::ShouldNot,
         "a handshake offering only TLS 1.1 and 1.0 is refused",
         &no_legacy_versions});
  c.add({"tls.garbage-handshake",
         area,
         {"S-TLS-015", "S-TLS-013"},
         Level::Must,
         "bytes that are not a TLS handshake after the STARTTLS ACK end the session; no "
         "plaintext answer",
         &garbage_instead_of_handshake});
}

}  // namespace nbdref::conform
