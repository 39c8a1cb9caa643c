// Checks of option haggling (proto.md "Fixed newstyle negotiation",
// "Termination of the session during option haggling", "Option types",
// "Option reply types", "Baseline"): unknown and malformed options, ABORT,
// LIST, INFO and GO, STRUCTURED_REPLY, STARTTLS on a plaintext server and
// EXTENDED_HEADERS.
#include <algorithm>
#include <map>

#include "checks/areas.hpp"
#include "checks/check_support.hpp"
#include "probe/printable.hpp"
#include "probe/probe_error.hpp"
#include "runner/check_context.hpp"
#include "wire/bytes.hpp"
#include "wire/constants.hpp"
#include "wire/limits.hpp"
#include "wire/option_request.hpp"
#include "wire/strings.hpp"
#include "wire/writer.hpp"

namespace nbdref::conform {
namespace {

using namespace wire;

// An information type no version of the protocol defines.
constexpr std::uint16_t kUnassignedInfoType = 0x7e57;
const std::vector<std::uint16_t> kAllInfoTypes = {NBD_INFO_EXPORT, NBD_INFO_NAME,
                                                  NBD_INFO_DESCRIPTION, NBD_INFO_BLOCK_SIZE};

std::vector<std::uint8_t> info_request_data(std::string_view name,
                                            const std::vector<std::uint16_t>& types) {
  std::vector<std::uint8_t> data;
  Writer w(data);
  encode_info_request({name, types}, w);
  return data;
}

// The final reply of an INFO or GO for the target's export, when it is a
// success; aborts the check as an error otherwise (the export must be
// usable for the check to mean anything), except that NBD_REP_ERR_UNSUP is
// left to checks that judge it.
void require_export_opened(const OptionReplies& replies) {
  const OptionReply& last = replies.back();
  if (last.type == NBD_REP_ACK || last.type == NBD_REP_ERR_UNSUP) return;
  throw CheckAbort{Status::Error, "the target export was refused: " + last.describe()};
}

// S-INT-004 (proto.md "Baseline"), S-HS-009 ("Termination of the session
// during option haggling").
Outcome unknown_option_unsup(CheckContext& ctx) {
  Probe probe = ctx.connect_newstyle();
  const std::vector<std::uint8_t> data = {1, 2, 3, 4, 5, 6, 7, 8};
  const OptionReplies r = probe.request_option(kUnassignedOption, data, "an unassigned option");
  const std::string required =
      "an option the server does not implement is answered with a single NBD_REP_ERR_UNSUP "
      "[S-INT-004], not a disconnect [S-HS-009]";
  if (r.size() != 1 || r.back().type != NBD_REP_ERR_UNSUP) {
    return ctx.fail("the server answered " + reply_types(r), required);
  }
  return ctx.pass();
}

// S-INT-005 (proto.md "Baseline"), S-HS-010 ("Termination of the session
// during option haggling").
Outcome unknown_option_in_step(CheckContext& ctx) {
  Probe probe = ctx.connect_newstyle();
  // 4 KiB of data holding what looks like an NBD_OPT_ABORT request: a server
  // that skips the wrong number of bytes would find it and answer ABORT.
  std::vector<std::uint8_t> data(4096, 0x5a);
  std::vector<std::uint8_t> fake;
  Writer w(fake);
  encode_option_request(NBD_OPT_ABORT, {}, w);
  for (std::size_t at = 0; at + fake.size() <= data.size(); at += 512) {
    std::copy(fake.begin(), fake.end(), data.begin() + static_cast<std::ptrdiff_t>(at));
  }
  probe.request_option(kUnassignedOption, data,
                       "an unassigned option whose data holds NBD_OPT_ABORT requests");
  expect_in_step(ctx, probe);
  return ctx.pass();
}

// S-INT-004 (proto.md "Option types": NBD_OPT_PEEK_EXPORT is withdrawn).
Outcome withdrawn_option_unsup(CheckContext& ctx) {
  Probe probe = ctx.connect_newstyle();
  const OptionReplies r = probe.request_option(NBD_OPT_PEEK_EXPORT);
  if (r.size() != 1 || r.back().type != NBD_REP_ERR_UNSUP) {
    return ctx.fail("the server answered " + reply_types(r),
                    "NBD_OPT_PEEK_EXPORT, withdrawn and implemented by no one, is answered "
                    "NBD_REP_ERR_UNSUP [S-INT-004]");
  }
  return ctx.pass();
}

// Sends NBD_OPT_ABORT with `data` and judges the reply: a lone NBD_REP_ACK.
Outcome abort_acknowledged(CheckContext& ctx, std::span<const std::uint8_t> data,
                           const std::string& required) {
  Probe probe = ctx.connect_newstyle();
  const OptionReplies r = probe.request_option(NBD_OPT_ABORT, data);
  if (r.size() != 1 || r.back().type != NBD_REP_ACK) {
    return ctx.fail("the server answered " + reply_types(r), required);
  }
  if (!r.back().payload.empty()) {
    return ctx.fail(
        "the NBD_REP_ACK carries " + std::to_string(r.back().payload.size()) + " bytes of data",
        required);
  }
  const ByteChannel::CloseWait wait = probe.channel().await_close(std::chrono::milliseconds(1'000));
  return ctx.pass(wait.closed ? "" : "the server kept the connection open after its ACK");
}

// S-OPT-004, S-INT-006 (proto.md "NBD_OPT_ABORT", "Baseline").
Outcome abort_ack(CheckContext& ctx) {
  return abort_acknowledged(ctx, {},
                            "NBD_OPT_ABORT is answered with NBD_REP_ACK (no data) [S-OPT-004, "
                            "S-INT-006]");
}

// S-OPT-005 (proto.md "NBD_OPT_ABORT").
Outcome abort_with_data(CheckContext& ctx) {
  const std::vector<std::uint8_t> data = {0xde, 0xad, 0xbe, 0xef};
  return abort_acknowledged(ctx, data,
                            "data sent with NBD_OPT_ABORT is ignored: the reply is still "
                            "NBD_REP_ACK [S-OPT-005]");
}

// S-OPT-006 (proto.md "NBD_OPT_ABORT").
Outcome abort_unread(CheckContext& ctx) {
  {
    Probe probe = ctx.connect_newstyle();
    probe.send_option(NBD_OPT_ABORT, {});
    probe.channel().close();
  }
  try {
    Probe next = ctx.connect();
    next.read_greeting();
  } catch (const ProbeError& e) {
    if (e.kind() != ProbeError::Kind::Connect && e.kind() != ProbeError::Kind::Closed) throw;
    return ctx.fail(
        std::string("after a client sent NBD_OPT_ABORT and closed at once, ") + e.what(),
        "the server copes with a client that closes without reading the ACK to "
        "NBD_OPT_ABORT [S-OPT-006]");
  }
  return ctx.pass();
}

// S-OPT-007, S-INT-007 (proto.md "NBD_OPT_LIST", "Baseline").
Outcome list_replies(CheckContext& ctx) {
  Probe probe = ctx.connect_newstyle();
  const OptionReplies r = probe.request_option(NBD_OPT_LIST);
  for (std::size_t i = 0; i + 1 < r.size(); ++i) {
    if (r[i].type != NBD_REP_SERVER) {
      return ctx.fail("reply " + std::to_string(i + 1) + " is " + r[i].describe(),
                      "NBD_OPT_LIST is answered with NBD_REP_SERVER replies, then NBD_REP_ACK or "
                      "an error [S-OPT-007]");
    }
  }
  if (r.back().type == NBD_REP_ERR_UNSUP) {
    return ctx.fail("the server answered NBD_REP_ERR_UNSUP",
                    "every server implements NBD_OPT_LIST [S-INT-007]");
  }
  if (r.back().is_error()) return ctx.pass("listing refused: " + r.back().describe());
  return ctx.pass(std::to_string(r.size() - 1) + " exports listed");
}

// The NBD_REP_SERVER replies of an NBD_OPT_LIST; not applicable when there
// are none to judge.
OptionReplies listed_exports(Probe& probe) {
  OptionReplies r = probe.request_option(NBD_OPT_LIST);
  r.pop_back();
  if (r.empty()) throw CheckAbort{Status::NotApplicable, "NBD_OPT_LIST lists no export"};
  return r;
}

// S-OPT-021, S-GEN-001, S-GEN-003 (proto.md "NBD_REP_SERVER", "Conventions").
Outcome list_entries(CheckContext& ctx) {
  Probe probe = ctx.connect_newstyle();
  for (const OptionReply& r : listed_exports(probe)) {
    if (r.type != NBD_REP_SERVER) continue;
    auto server = decode_server_reply(r.payload);
    if (!server) {
      return ctx.fail("an NBD_REP_SERVER reply is malformed: " + server.error().to_string(),
                      "the name length fits the reply, and names and descriptions hold no NUL "
                      "and at most 4096 bytes [S-OPT-021, S-GEN-001, S-GEN-003]");
    }
  }
  return ctx.pass();
}

// The strings the server sent in NBD_REP_SERVER and NBD_REP_INFO replies:
// export names and descriptions.
std::vector<std::string> server_strings(const OptionReplies& replies) {
  std::vector<std::string> out;
  for (const OptionReply& r : replies) {
    if (r.type == NBD_REP_SERVER) {
      if (auto s = decode_server_reply(r.payload)) {
        out.emplace_back(s->name);
        out.emplace_back(s->description);
      }
    } else if (r.type == NBD_REP_INFO && r.payload.size() >= 2) {
      const std::uint16_t type = load_be16(r.payload.data());
      if (type == NBD_INFO_NAME || type == NBD_INFO_DESCRIPTION) {
        out.emplace_back(as_string_view(Bytes(r.payload).subspan(2)));
      }
    }
  }
  return out;
}

// S-GEN-002 (proto.md "Conventions").
Outcome strings_portable(CheckContext& ctx) {
  Probe probe = ctx.connect_newstyle();
  OptionReplies all = probe.request_option(NBD_OPT_LIST);
  const OptionReplies info = probe.request_info(NBD_OPT_INFO, ctx.export_name(), kAllInfoTypes);
  all.insert(all.end(), info.begin(), info.end());
  const std::vector<std::string> strings = server_strings(all);
  if (strings.empty()) return ctx.not_applicable("the server sent no export name or description");
  for (const std::string& s : strings) {
    if (s.size() > PORTABLE_STRING_LENGTH) {
      return ctx.fail(
          "the server sent a string of " + std::to_string(s.size()) + " bytes: " + quoted(s),
          "strings the server sends are at most 256 bytes long [S-GEN-002]");
    }
  }
  return ctx.pass();
}

// Sends `option` with four bytes of data it must not carry and expects a
// single NBD_REP_ERR_INVALID, then a session still in step.
Outcome expect_invalid_for_data(CheckContext& ctx, Probe& probe, std::uint32_t option,
                                const std::string& required) {
  const std::vector<std::uint8_t> data = {0, 0, 0, 0};
  const OptionReplies r = probe.request_option(option, data, "data this option must not carry");
  if (r.size() != 1 || r.back().type != NBD_REP_ERR_INVALID) {
    return ctx.fail("the server answered " + reply_types(r), required);
  }
  expect_in_step(ctx, probe);
  return ctx.pass();
}

// S-OPT-008 (proto.md "NBD_OPT_LIST").
Outcome list_with_data(CheckContext& ctx) {
  Probe probe = ctx.connect_newstyle();
  return expect_invalid_for_data(ctx, probe, NBD_OPT_LIST,
                                 "NBD_OPT_LIST with data is rejected with a single "
                                 "NBD_REP_ERR_INVALID and the session goes on [S-OPT-008]");
}

// Judges INFO or GO for the target's export, without information requests:
// at least one NBD_INFO_EXPORT before NBD_REP_ACK.
Outcome info_or_go_export(CheckContext& ctx, std::uint32_t option) {
  Probe probe = ctx.connect_newstyle();
  const OptionReplies r = probe.request_info(option, ctx.export_name());
  require_export_opened(r);
  const std::string name = describe_option(option);
  if (r.back().type == NBD_REP_ERR_UNSUP) {
    return ctx.fail("the server answered " + name + " with NBD_REP_ERR_UNSUP",
                    "every server implements NBD_OPT_INFO and NBD_OPT_GO [S-INT-003]");
  }
  const auto info = find_export_info(decode_infos(r));
  if (!info) {
    return ctx.fail("the server answered " + reply_types(r) + " with no NBD_INFO_EXPORT",
                    "a successful " + name +
                        " sends an NBD_REP_INFO of type NBD_INFO_EXPORT before NBD_REP_ACK "
                        "[S-OPT-014, S-INT-003]");
  }
  return ctx.pass(describe_export(info->export_size, info->transmission_flags));
}

// S-OPT-014, S-INT-003 (proto.md "NBD_OPT_INFO / NBD_OPT_GO", "Baseline").
Outcome info_export(CheckContext& ctx) {
  return info_or_go_export(ctx, NBD_OPT_INFO);
}

Outcome go_export(CheckContext& ctx) {
  return info_or_go_export(ctx, NBD_OPT_GO);
}

// NBD_INFO_EXPORT from a successful NBD_OPT_GO on `probe`: transmission has
// begun. Aborts as not applicable when GO is not implemented, as an error
// when the export is refused.
InfoExport go_into_transmission(CheckContext& ctx, Probe& probe,
                                const std::vector<std::uint16_t>& info_types = {}) {
  const OptionReplies r = probe.request_info(NBD_OPT_GO, ctx.export_name(), info_types);
  if (r.back().type == NBD_REP_ERR_UNSUP) {
    throw CheckAbort{Status::NotApplicable, "the server does not implement NBD_OPT_GO"};
  }
  if (r.back().type != NBD_REP_ACK) {
    throw CheckAbort{Status::Error, "the target export was refused: " + r.back().describe()};
  }
  const auto info = find_export_info(decode_infos(r));
  if (!info) {
    throw ProbeError(ProbeError::Kind::Violation,
                     "NBD_OPT_GO succeeded without NBD_INFO_EXPORT [S-OPT-014]", "S-OPT-014");
  }
  return *info;
}

// S-OPT-019 (proto.md "NBD_OPT_INFO / NBD_OPT_GO").
Outcome go_no_padding(CheckContext& ctx) {
  Probe probe = ctx.connect_newstyle(NBD_FLAG_C_FIXED_NEWSTYLE);
  const InfoExport info = go_into_transmission(ctx, probe);
  const auto request =
      probe.send_request(NBD_CMD_READ, 0, 0, std::min<std::uint64_t>(info.export_size, 512));
  const auto next = probe.channel().receive(4, "the reply to NBD_CMD_READ");
  probe.transcript().received("the first bytes after the NBD_REP_ACK to NBD_OPT_GO", next);
  if (load_be32(next.data()) == NBD_SIMPLE_REPLY_MAGIC) finish_simple_reply(probe, request);
  if (load_be32(next.data()) != NBD_SIMPLE_REPLY_MAGIC) {
    return ctx.fail(
        "the bytes after the NBD_REP_ACK to NBD_OPT_GO are not the simple reply to "
        "the first request (see the transcript)",
        "no padding follows the NBD_REP_ACK to NBD_OPT_GO [S-OPT-019]");
  }
  return ctx.pass();
}

// S-OPT-023, S-OPT-025, S-OPT-026, S-SZ-025 (proto.md "NBD_REP_INFO").
Outcome info_item_layout(CheckContext& ctx) {
  Probe probe = ctx.connect_newstyle();
  const OptionReplies r = probe.request_info(NBD_OPT_INFO, ctx.export_name(), kAllInfoTypes);
  require_export_opened(r);
  for (const OptionReply& reply : r) {
    if (reply.type != NBD_REP_INFO) continue;
    const std::size_t length = reply.payload.size();
    const std::string required =
        "each NBD_REP_INFO has its type's length: 12 for NBD_INFO_EXPORT [S-OPT-023], at least 2 "
        "for NBD_INFO_NAME [S-OPT-025] and NBD_INFO_DESCRIPTION [S-OPT-026], 14 for "
        "NBD_INFO_BLOCK_SIZE [S-SZ-025]";
    if (length < 2) {
      return ctx.fail("an NBD_REP_INFO reply is " + std::to_string(length) + " bytes long",
                      required);
    }
    const std::uint16_t type = load_be16(reply.payload.data());
    const bool wrong =
        (type == NBD_INFO_EXPORT && length != 12) || (type == NBD_INFO_BLOCK_SIZE && length != 14);
    if (wrong) {
      return ctx.fail(
          std::string(info_name(type)) + " is " + std::to_string(length) + " bytes long", required);
    }
  }
  return ctx.pass();
}

// S-GEN-001, S-GEN-003 (proto.md "Conventions").
Outcome info_strings(CheckContext& ctx) {
  Probe probe = ctx.connect_newstyle();
  const OptionReplies r = probe.request_info(NBD_OPT_INFO, ctx.export_name(), kAllInfoTypes);
  require_export_opened(r);
  for (const std::string& s : server_strings(r)) {
    if (auto problem =
            check_string(s, "an NBD_INFO_NAME or NBD_INFO_DESCRIPTION string", SERVER_STRING)) {
      return ctx.fail(problem->to_string(),
                      "strings the server sends hold no NUL and at most 4096 bytes [S-GEN-001, "
                      "S-GEN-003]");
    }
  }
  return ctx.pass();
}

// S-OPT-009 (proto.md "NBD_OPT_INFO / NBD_OPT_GO"). The same NBD_OPT_INFO
// without information requests succeeds first, on the same connection:
// only then does a refusal of the unknown requests show the rule broken.
Outcome info_unknown_request(CheckContext& ctx) {
  Probe probe = ctx.connect_newstyle();
  const OptionReplies plain = probe.request_info(NBD_OPT_INFO, ctx.export_name());
  if (plain.back().type == NBD_REP_ERR_UNSUP) {
    return ctx.not_applicable(
        "the server does not implement NBD_OPT_INFO (judged by opt.info-export)");
  }
  if (plain.back().type != NBD_REP_ACK) {
    throw CheckAbort{Status::Error,
                     "the check cannot go on: NBD_OPT_INFO without information requests was "
                     "answered " +
                         plain.back().describe()};
  }
  const std::vector<std::uint16_t> unknown = {kUnassignedInfoType, 0xffff};
  const std::string required =
      "information requests the server does not know are ignored: NBD_OPT_INFO and NBD_OPT_GO "
      "carrying them succeed as without them [S-OPT-009]";
  const OptionReplies info = probe.request_info(NBD_OPT_INFO, ctx.export_name(), unknown);
  if (info.back().type != NBD_REP_ACK) {
    return ctx.fail(
        "NBD_OPT_INFO succeeded without information requests, then with requests for the "
        "unknown types 32343 and 65535 it was answered " +
            info.back().describe(),
        required);
  }
  const OptionReplies go = probe.request_info(NBD_OPT_GO, ctx.export_name(), unknown);
  if (go.back().type != NBD_REP_ACK) {
    return ctx.fail(
        "NBD_OPT_INFO succeeded with and without requests for the unknown types 32343 and "
        "65535, but NBD_OPT_GO with them was answered " +
            go.back().describe(),
        required);
  }
  return ctx.pass();
}

// S-OPT-020 (proto.md "Option reply types"). The probe checks the magic
// and the option named by every reply it reads; here it reads the replies
// to each kind of option a client sends before transmission (a list, an
// export's information, an unknown export, an unknown option, structured
// replies, metadata contexts, extended headers), ending with NBD_OPT_ABORT.
Outcome replies_name_option(CheckContext& ctx) {
  Probe probe = ctx.connect_newstyle();
  std::size_t replies = 0;
  replies += probe.request_option(NBD_OPT_LIST).size();
  replies += probe.request_info(NBD_OPT_INFO, ctx.export_name(), kAllInfoTypes).size();
  replies += probe.request_info(NBD_OPT_INFO, kUnlikelyExportName).size();
  replies += probe.request_option(kUnassignedOption, {}, "an unassigned option").size();
  replies += probe.request_option(NBD_OPT_STRUCTURED_REPLY).size();
  replies += probe.request_meta_context(NBD_OPT_LIST_META_CONTEXT, ctx.export_name(), {}).size();
  replies +=
      probe.request_meta_context(NBD_OPT_SET_META_CONTEXT, ctx.export_name(), {"base:allocation"})
          .size();
  replies += probe.request_option(NBD_OPT_EXTENDED_HEADERS).size();
  std::string note;
  try {
    replies += probe.request_option(NBD_OPT_ABORT).size();
  } catch (const ProbeError& e) {
    // A missing acknowledgement is opt.abort-ack's to judge.
    if (e.kind() != ProbeError::Kind::Closed) throw;
    note = "; the server closed the connection without answering NBD_OPT_ABORT";
  }
  return ctx.pass(std::to_string(replies) + " replies with the reply magic and the option named" +
                  note);
}

// S-OPT-022 (proto.md "NBD_REP_INFO").
Outcome info_types_once(CheckContext& ctx) {
  Probe probe = ctx.connect_newstyle();
  const OptionReplies r = probe.request_info(NBD_OPT_INFO, ctx.export_name(), kAllInfoTypes);
  require_export_opened(r);
  std::map<std::uint16_t, int> seen;
  for (const OptionReply& reply : r) {
    if (reply.type != NBD_REP_INFO || reply.payload.size() < 2) continue;
    const std::uint16_t type = load_be16(reply.payload.data());
    if (++seen[type] == 2) {
      const char* name = info_name(type);
      return ctx.fail(
          (name ? std::string(name) : "information type " + std::to_string(type)) + " came twice",
          "each information type appears at most once per reply sequence "
          "[S-OPT-022]");
    }
  }
  return ctx.pass();
}

// The NBD_REP_INFO payloads of `replies`, sorted: the set of information,
// order aside.
std::vector<std::vector<std::uint8_t>> info_set(const OptionReplies& replies) {
  std::vector<std::vector<std::uint8_t>> out;
  for (const OptionReply& r : replies) {
    if (r.type == NBD_REP_INFO) out.push_back(r.payload);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// S-OPT-017 (proto.md "NBD_OPT_INFO / NBD_OPT_GO").
Outcome info_go_consistent(CheckContext& ctx) {
  Probe probe = ctx.connect_newstyle();
  const std::vector<std::uint16_t> types = {NBD_INFO_NAME, NBD_INFO_DESCRIPTION,
                                            NBD_INFO_BLOCK_SIZE};
  const OptionReplies info = probe.request_info(NBD_OPT_INFO, ctx.export_name(), types);
  if (info.back().type != NBD_REP_ACK) {
    return ctx.not_applicable("NBD_OPT_INFO did not succeed: " + info.back().describe());
  }
  const OptionReplies go = probe.request_info(NBD_OPT_GO, ctx.export_name(), types);
  const std::string required =
      "NBD_OPT_GO right after a successful NBD_OPT_INFO with the same parameters returns the "
      "same information [S-OPT-017]";
  if (go.back().type != NBD_REP_ACK) {
    return ctx.fail("NBD_OPT_INFO succeeded but NBD_OPT_GO answered " + go.back().describe(),
                    required);
  }
  if (info_set(info) != info_set(go)) {
    return ctx.fail(
        "NBD_OPT_INFO and NBD_OPT_GO sent different NBD_REP_INFO replies (see the "
        "transcript)",
        required);
  }
  return ctx.pass();
}

// S-TX-015, S-TX-019, S-TX-023, X-S-009, X-S-010 (proto.md "Transmission
// flags"; the extended-headers text, same section), S-SR-012, X-S-016,
// X-S-027 ("NBD_OPT_STRUCTURED_REPLY", "NBD_OPT_EXTENDED_HEADERS": nothing
// needing reply or request payloads is advertised before they are
// negotiated).
Outcome go_flags(CheckContext& ctx) {
  Probe probe = ctx.connect_newstyle();
  const InfoExport info = go_into_transmission(ctx, probe);
  if (auto problem = transmission_flag_problem(info.transmission_flags, false)) {
    return ctx.fail("in the NBD_INFO_EXPORT of NBD_OPT_GO, " + *problem,
                    "transmission flags are consistent with what was negotiated");
  }
  return ctx.pass();
}

// S-OPT-015 (proto.md "NBD_OPT_INFO / NBD_OPT_GO").
Outcome info_unknown_export(CheckContext& ctx) {
  Probe probe = ctx.connect_newstyle();
  const OptionReplies r = probe.request_info(NBD_OPT_INFO, kUnlikelyExportName);
  if (r.back().type != NBD_REP_ERR_UNKNOWN) {
    return ctx.not_applicable("NBD_OPT_INFO for " + quoted(kUnlikelyExportName) + " answered " +
                              r.back().describe() + ", not NBD_REP_ERR_UNKNOWN");
  }
  if (r.size() > 1) {
    return ctx.fail("NBD_REP_ERR_UNKNOWN came after " + reply_types(r),
                    "no NBD_REP_INFO is sent before NBD_REP_ERR_UNKNOWN [S-OPT-015]");
  }
  return ctx.pass();
}

// S-GEN-003 (proto.md "Conventions"): a name over 4096 bytes is the
// client's violation; the server may refuse it or close (S-HS-007), but
// must not send such a string back.
Outcome long_export_name(CheckContext& ctx) {
  Probe probe = ctx.connect_newstyle();
  const std::string name(MAX_STRING_LENGTH + 904, 'n');
  OptionReplies r;
  try {
    r = probe.request_info(NBD_OPT_INFO, name, {NBD_INFO_NAME});
  } catch (const ProbeError& e) {
    if (e.kind() != ProbeError::Kind::Closed) throw;
    return ctx.pass("the server closed the connection");
  }
  for (const std::string& s : server_strings(r)) {
    if (s.size() > MAX_STRING_LENGTH) {
      return ctx.fail("the server sent back a string of " + std::to_string(s.size()) + " bytes",
                      "no string the server sends exceeds 4096 bytes [S-GEN-003]");
    }
  }
  return ctx.pass("answered " + r.back().describe());
}

// Sends `data` as an NBD_OPT_INFO request and judges what follows: an
// error reply and a session still in step, or a closed connection (the
// client broke a MUST, S-HS-007).
Outcome malformed_info(CheckContext& ctx, const std::vector<std::uint8_t>& data,
                       const std::string& detail) {
  Probe probe = ctx.connect_newstyle();
  OptionReplies r;
  try {
    r = expect_answer("the malformed NBD_OPT_INFO",
                      [&] { return probe.request_option(NBD_OPT_INFO, data, detail); });
  } catch (const ProbeError& e) {
    if (e.kind() != ProbeError::Kind::Closed) throw;
    return ctx.pass("the server closed the connection");
  }
  if (!r.back().is_error()) {
    return ctx.fail("the server accepted a malformed NBD_OPT_INFO: " + reply_types(r),
                    "a server parses each option within its declared length and refuses one "
                    "whose fields do not fit [S-INT-005]");
  }
  expect_in_step(ctx, probe);
  return ctx.pass("answered " + r.back().describe());
}

// S-INT-005 (proto.md "Baseline"; "NBD_OPT_INFO / NBD_OPT_GO": the name
// length is at most the data length - 6).
Outcome info_name_overrun(CheckContext& ctx) {
  std::vector<std::uint8_t> data;
  Writer w(data);
  w.be32(100);  // a name length running past the 16 bytes of data
  w.string("abcdefghij");
  w.be16(0);
  return malformed_info(ctx, data, "name length 100 with 10 bytes of name");
}

// S-INT-005 (proto.md "Baseline"; "NBD_OPT_INFO / NBD_OPT_GO").
Outcome info_count_overrun(CheckContext& ctx) {
  std::vector<std::uint8_t> data = info_request_data(ctx.export_name(), {});
  // Five information requests announced, one present.
  store_be16(data.data() + data.size() - 2, 5);
  Writer w(data);
  w.be16(NBD_INFO_NAME);
  return malformed_info(ctx, data, "5 information requests announced, 1 present");
}

// S-SR-011 (proto.md "NBD_OPT_STRUCTURED_REPLY"); S-OPT-002 lets the
// repeated option fail with NBD_REP_ERR_INVALID.
Outcome structured_reply_twice(CheckContext& ctx) {
  Probe probe = ctx.connect_newstyle();
  const OptionReplies first = probe.request_option(NBD_OPT_STRUCTURED_REPLY);
  if (first.back().type != NBD_REP_ACK) {
    return ctx.not_applicable("the server does not offer structured replies (" +
                              first.back().describe() + ")");
  }
  const OptionReplies second = probe.request_option(NBD_OPT_STRUCTURED_REPLY);
  const InfoExport info = go_into_transmission(ctx, probe);
  const auto request =
      probe.send_request(NBD_CMD_READ, 0, 0, std::min<std::uint64_t>(info.export_size, 512));
  const TransmissionReply reply = probe.read_reply(request);
  if (reply.is_simple()) {
    return ctx.fail("after NBD_OPT_STRUCTURED_REPLY was acknowledged (and sent again, answered " +
                        second.back().describe() + "), NBD_CMD_READ got a " + reply.describe(),
                    "once structured replies are acknowledged, every NBD_CMD_READ reply is "
                    "structured [S-SR-011]");
  }
  return ctx.pass("the repeated option was answered " + second.back().describe());
}

// S-SR-010 (proto.md "NBD_OPT_STRUCTURED_REPLY").
Outcome structured_reply_with_data(CheckContext& ctx) {
  {
    Probe plain = ctx.connect_newstyle();
    const OptionReplies r = plain.request_option(NBD_OPT_STRUCTURED_REPLY);
    if (r.back().type != NBD_REP_ACK) {
      return ctx.not_applicable("the server does not offer structured replies (" +
                                r.back().describe() + ")");
    }
  }
  Probe probe = ctx.connect_newstyle();
  return expect_invalid_for_data(ctx, probe, NBD_OPT_STRUCTURED_REPLY,
                                 "NBD_OPT_STRUCTURED_REPLY with data is rejected with "
                                 "NBD_REP_ERR_INVALID and the session goes on [S-SR-010]");
}

// Refusals of NBD_OPT_STARTTLS a plaintext server may give: proto.md
// "NOTLS mode" names POLICY and UNSUP; PLATFORM is documented for a server
// built without TLS, SHUTDOWN for one shutting down.
bool permitted_starttls_refusal(std::uint32_t type) {
  return type == NBD_REP_ERR_POLICY || type == NBD_REP_ERR_UNSUP || type == NBD_REP_ERR_PLATFORM ||
         type == NBD_REP_ERR_SHUTDOWN;
}

// S-TLS-008, S-TLS-032 (proto.md "NOTLS mode", "NBD_OPT_STARTTLS"), S-HS-010
// ("Termination of the session during option haggling").
Outcome starttls_plaintext(CheckContext& ctx) {
  Probe probe = ctx.connect_plaintext();
  const OptionReplies r = probe.request_option(NBD_OPT_STARTTLS);
  if (r.back().type == NBD_REP_ACK) {
    return ctx.not_applicable("the server offers TLS (NBD_OPT_STARTTLS was acknowledged)");
  }
  if (r.size() != 1 || !permitted_starttls_refusal(r.back().type)) {
    return ctx.fail("the server answered " + reply_types(r),
                    "a server without TLS refuses NBD_OPT_STARTTLS with NBD_REP_ERR_POLICY, "
                    "NBD_REP_ERR_UNSUP or another error permitted for it [S-TLS-008, "
                    "S-TLS-032]");
  }
  expect_in_step(ctx, probe);
  return ctx.pass("refused with " + r.back().describe());
}

// S-TLS-009 (proto.md "NOTLS mode").
Outcome no_tls_reqd_without_tls(CheckContext& ctx) {
  Probe probe = ctx.connect_plaintext();
  const OptionReplies tls = probe.request_option(NBD_OPT_STARTTLS);
  if (tls.back().type == NBD_REP_ACK) {
    return ctx.not_applicable("the server offers TLS (NBD_OPT_STARTTLS was acknowledged)");
  }
  std::vector<OptionReplies> answers;
  answers.push_back(probe.request_info(NBD_OPT_INFO, ctx.export_name()));
  answers.push_back(probe.request_info(NBD_OPT_INFO, kUnlikelyExportName));
  answers.push_back(probe.request_option(NBD_OPT_LIST));
  answers.push_back(probe.request_option(kUnassignedOption));
  answers.push_back(probe.request_meta_context(NBD_OPT_LIST_META_CONTEXT, ctx.export_name(), {}));
  answers.push_back(probe.request_option(NBD_OPT_STRUCTURED_REPLY));
  answers.push_back(probe.request_info(NBD_OPT_GO, ctx.export_name()));
  for (const OptionReplies& r : answers) {
    if (r.back().type == NBD_REP_ERR_TLS_REQD) {
      return ctx.fail("after refusing NBD_OPT_STARTTLS the server answered " + r.back().describe(),
                      "a server without TLS never answers NBD_REP_ERR_TLS_REQD [S-TLS-009]");
    }
  }
  return ctx.pass();
}

// The final reply to GO for the target's export, with or without a request
// for NBD_INFO_BLOCK_SIZE.
OptionReplies go_with(CheckContext& ctx, const std::vector<std::uint16_t>& types) {
  Probe probe = ctx.connect_newstyle();
  return probe.request_info(NBD_OPT_GO, ctx.export_name(), types);
}

// S-INT-010 (proto.md "Maximum interoperability").
Outcome go_without_block_size(CheckContext& ctx) {
  const OptionReplies r = go_with(ctx, {});
  if (r.back().type == NBD_REP_ERR_BLOCK_SIZE_REQD) {
    return ctx.fail(
        "NBD_OPT_GO without NBD_INFO_BLOCK_SIZE was refused with "
        "NBD_REP_ERR_BLOCK_SIZE_REQD",
        "a server does not require clients to request NBD_INFO_BLOCK_SIZE "
        "[S-INT-010]");
  }
  return ctx.pass();
}

// S-SZ-021 (proto.md "NBD_OPT_INFO / NBD_OPT_GO").
Outcome go_with_block_size(CheckContext& ctx) {
  const OptionReplies r = go_with(ctx, {NBD_INFO_BLOCK_SIZE});
  if (r.back().type == NBD_REP_ERR_BLOCK_SIZE_REQD) {
    return ctx.fail(
        "NBD_OPT_GO requesting NBD_INFO_BLOCK_SIZE was refused with "
        "NBD_REP_ERR_BLOCK_SIZE_REQD",
        "NBD_REP_ERR_BLOCK_SIZE_REQD is never sent when the request included "
        "NBD_INFO_BLOCK_SIZE [S-SZ-021]");
  }
  return ctx.pass();
}

// S-SZ-023 (proto.md "NBD_OPT_INFO / NBD_OPT_GO").
Outcome block_size_reqd_with_info(CheckContext& ctx) {
  const OptionReplies r = go_with(ctx, {});
  if (r.back().type != NBD_REP_ERR_BLOCK_SIZE_REQD) {
    return ctx.not_applicable("NBD_OPT_GO without NBD_INFO_BLOCK_SIZE was answered " +
                              r.back().describe());
  }
  for (const OptionReply& reply : r) {
    if (reply.type == NBD_REP_INFO && reply.payload.size() >= 2 &&
        load_be16(reply.payload.data()) == NBD_INFO_BLOCK_SIZE) {
      return ctx.pass();
    }
  }
  return ctx.fail("NBD_REP_ERR_BLOCK_SIZE_REQD came without an NBD_INFO_BLOCK_SIZE before it",
                  "a server answering NBD_REP_ERR_BLOCK_SIZE_REQD first sends NBD_INFO_BLOCK_SIZE "
                  "[S-SZ-023]");
}

// Whether the server acknowledges NBD_OPT_EXTENDED_HEADERS on a fresh
// connection; the check is not applicable when it does not.
void require_extended_headers(CheckContext& ctx) {
  Probe probe = ctx.connect_newstyle();
  const OptionReplies r = probe.request_option(NBD_OPT_EXTENDED_HEADERS);
  if (r.back().type != NBD_REP_ACK) {
    throw CheckAbort{Status::NotApplicable,
                     "the server does not offer extended headers (" + r.back().describe() + ")"};
  }
}

// X-S-024 (extended-headers text, "NBD_OPT_EXTENDED_HEADERS").
Outcome extended_headers_with_data(CheckContext& ctx) {
  require_extended_headers(ctx);
  Probe probe = ctx.connect_newstyle();
  return expect_invalid_for_data(ctx, probe, NBD_OPT_EXTENDED_HEADERS,
                                 "NBD_OPT_EXTENDED_HEADERS with data is rejected with "
                                 "NBD_REP_ERR_INVALID [X-S-024]");
}

// X-S-025, X-S-014, X-S-028, X-B-001 (extended-headers text,
// "NBD_OPT_EXTENDED_HEADERS", "NBD_OPT_INFO / NBD_OPT_GO", "Transmission").
Outcome extended_headers_go(CheckContext& ctx) {
  Probe probe = ctx.connect_newstyle();
  const OptionReplies eh = probe.request_option(NBD_OPT_EXTENDED_HEADERS);
  if (eh.back().type != NBD_REP_ACK) {
    return ctx.not_applicable("the server does not offer extended headers (" +
                              eh.back().describe() + ")");
  }
  const OptionReplies go = probe.request_info(NBD_OPT_GO, ctx.export_name());
  if (go.back().type == NBD_REP_ERR_UNSUP) {
    return ctx.fail(
        "after acknowledging NBD_OPT_EXTENDED_HEADERS the server answered "
        "NBD_OPT_GO with NBD_REP_ERR_UNSUP",
        "a server acknowledging extended headers supports NBD_OPT_GO [X-S-025, "
        "X-S-014]");
  }
  require_export_opened(go);
  const auto info = find_export_info(decode_infos(go));
  const std::uint64_t size = info ? info->export_size : 0;
  const auto request = probe.send_request(NBD_CMD_READ, 0, 0, std::min<std::uint64_t>(size, 512));
  const TransmissionReply reply = probe.read_reply(request);
  if (reply.kind != ReplyKind::Extended) {
    return ctx.fail("with extended headers negotiated, NBD_CMD_READ got a " + reply.describe(),
                    "after NBD_OPT_EXTENDED_HEADERS is acknowledged the server sends only "
                    "extended reply headers [X-S-028, X-B-001]");
  }
  return ctx.pass();
}

}  // namespace

void add_option_checks(Catalogue& c) {
  const std::string area = "options";
  c.add({"opt.unknown-option-unsup",
         area,
         {"S-INT-004", "S-HS-009"},
         Level::Must,
         "an unknown option is answered with a single NBD_REP_ERR_UNSUP",
         &unknown_option_unsup});
  c.add({"opt.unknown-option-in-step",
         area,
         {"S-INT-005", "S-HS-010"},
         Level::Must,
         "after an unknown option with 4 KiB of data the next option is parsed correctly",
         &unknown_option_in_step});
  c.add({"opt.withdrawn-option-unsup",
         area,
         {"S-INT-004"},
         Level::Must,
         "the withdrawn NBD_OPT_PEEK_EXPORT is answered with NBD_REP_ERR_UNSUP",
         &withdrawn_option_unsup});
  c.add({"opt.abort-ack",
         area,
         {"S-OPT-004", "S-INT-006"},
         Level::Must,
         "NBD_OPT_ABORT is answered with NBD_REP_ACK",
         &abort_ack});
  c.add({"opt.abort-with-data",
         area,
         {"S-OPT-005"},
         Level::Should,
         "NBD_OPT_ABORT with data is still answered with NBD_REP_ACK",
         &abort_with_data});
  c.add({"opt.abort-unread",
         area,
         {"S-OPT-006"},
         Level::Should,
         "a client that sends NBD_OPT_ABORT and closes at once leaves the server serving",
         &abort_unread});
  c.add({"opt.list-replies",
         area,
         {"S-OPT-007", "S-INT-007"},
         Level::Must,
         "NBD_OPT_LIST is answered with NBD_REP_SERVER replies then NBD_REP_ACK or an error",
         &list_replies});
  c.add({"opt.list-entries",
         area,
         {"S-OPT-021", "S-GEN-001", "S-GEN-003"},
         Level::Must,
         "NBD_REP_SERVER replies are well formed: name length within the reply, valid strings",
         &list_entries});
  c.add({"opt.list-with-data",
         area,
         {"S-OPT-008"},
         Level::Should,
         "NBD_OPT_LIST with data is rejected with NBD_REP_ERR_INVALID",
         &list_with_data});
  c.add({"opt.strings-portable",
         area,
         {"S-GEN-002"},
         Level::Should,
         "export names and descriptions are at most 256 bytes",
         &strings_portable});
  c.add({"opt.info-export",
         area,
         {"S-OPT-014", "S-INT-003"},
         Level::Must,
         "NBD_OPT_INFO succeeds with an NBD_INFO_EXPORT before NBD_REP_ACK",
         &info_export});
  c.add({"opt.go-export",
         area,
         {"S-OPT-014", "S-INT-003"},
         Level::Must,
         "NBD_OPT_GO succeeds with an NBD_INFO_EXPORT before NBD_REP_ACK",
         &go_export});
  c.add({"opt.go-no-padding",
         area,
         {"S-OPT-019"},
         Level::MustNot,
         "no padding follows the NBD_REP_ACK to NBD_OPT_GO",
         &go_no_padding});
  c.add(
      {"opt.go-flags",
       area,
       {"S-TX-015", "S-TX-019", "S-TX-023", "X-S-009", "X-S-010", "S-SR-012", "X-S-016", "X-S-027"},
       Level::Must,
       "the transmission flags from NBD_OPT_GO have HAS_FLAGS and no flag that needs an "
       "unnegotiated feature",
       &go_flags});
  c.add({"opt.info-item-layout",
         area,
         {"S-OPT-023", "S-OPT-025", "S-OPT-026", "S-SZ-025"},
         Level::Must,
         "every NBD_REP_INFO item has its documented length",
         &info_item_layout});
  c.add({"opt.info-strings",
         area,
         {"S-GEN-001", "S-GEN-003"},
         Level::Must,
         "NBD_INFO_NAME and NBD_INFO_DESCRIPTION hold no NUL and at most 4096 bytes",
         &info_strings});
  c.add({"opt.info-unknown-request",
         area,
         {"S-OPT-009"},
         Level::Must,
         "unknown information requests are ignored: NBD_OPT_INFO and NBD_OPT_GO still succeed",
         &info_unknown_request});
  c.add({"opt.replies-name-option",
         area,
         {"S-OPT-020"},
         Level::Must,
         "every option reply starts with the reply magic and names the option it answers",
         &replies_name_option});
  c.add({"opt.info-types-once",
         area,
         {"S-OPT-022"},
         Level::Should,
         "each information type comes at most once in one reply sequence",
         &info_types_once});
  c.add({"opt.info-go-consistent",
         area,
         {"S-OPT-017"},
         Level::Must,
         "NBD_OPT_GO right after NBD_OPT_INFO with the same request returns the same information",
         &info_go_consistent});
  c.add({"opt.info-unknown-export",
         area,
         {"S-OPT-015"},
         Level::ShouldNot,
         "no NBD_REP_INFO comes before NBD_REP_ERR_UNKNOWN",
         &info_unknown_export});
  c.add({"opt.long-export-name",
         area,
         {"S-GEN-003"},
         Level::MustNot,
         "an export name over 4096 bytes is refused or dropped, never echoed back",
         &long_export_name});
  c.add({"opt.info-name-overrun",
         area,
         {"S-INT-005"},
         Level::Must,
         "NBD_OPT_INFO whose name runs past the option data is refused and the session stays in "
         "step",
         &info_name_overrun});
  c.add({"opt.info-count-overrun",
         area,
         {"S-INT-005"},
         Level::Must,
         "NBD_OPT_INFO announcing more information requests than it holds is refused and the "
         "session stays in step",
         &info_count_overrun});
  c.add({"opt.structured-reply-twice",
         area,
         {"S-SR-011"},
         Level::Must,
         "after NBD_OPT_STRUCTURED_REPLY twice, reads still get structured replies",
         &structured_reply_twice});
  c.add({"opt.structured-reply-with-data",
         area,
         {"S-SR-010"},
         Level::Should,
         "NBD_OPT_STRUCTURED_REPLY with data is rejected with NBD_REP_ERR_INVALID",
         &structured_reply_with_data});
  c.add({"opt.starttls-plaintext",
         area,
         {"S-TLS-008", "S-TLS-032", "S-HS-010"},
         Level::Must,
         "a server without TLS refuses NBD_OPT_STARTTLS with a permitted error and goes on",
         &starttls_plaintext});
  c.add({"opt.no-tls-reqd-without-tls",
         area,
         {"S-TLS-009"},
         Level::MustNot,
         "a server without TLS never answers NBD_REP_ERR_TLS_REQD",
         &no_tls_reqd_without_tls});
  c.add({"opt.go-without-block-size",
         area,
         {"S-INT-010"},
         Level::ShouldNot,
         "NBD_OPT_GO without NBD_INFO_BLOCK_SIZE is not refused with NBD_REP_ERR_BLOCK_SIZE_REQD",
         &go_without_block_size});
  c.add({"opt.go-with-block-size",
         area,
         {"S-SZ-021"},
         Level::MustNot,
         "NBD_OPT_GO requesting NBD_INFO_BLOCK_SIZE is never refused with "
         "NBD_REP_ERR_BLOCK_SIZE_REQD",
         &go_with_block_size});
  c.add({"opt.block-size-reqd-with-info",
         area,
         {"S-SZ-023"},
         Level::Should,
         "NBD_REP_ERR_BLOCK_SIZE_REQD comes after an NBD_INFO_BLOCK_SIZE",
         &block_size_reqd_with_info});
  c.add({"opt.extended-headers-with-data",
         area,
         {"X-S-024"},
         Level::Should,
         "NBD_OPT_EXTENDED_HEADERS with data is rejected with NBD_REP_ERR_INVALID",
         &extended_headers_with_data});
  c.add({"opt.extended-headers-go",
         area,
         {"X-S-025", "X-S-014", "X-S-028", "X-B-001"},
         Level::Must,
         "after NBD_OPT_EXTENDED_HEADERS, NBD_OPT_GO works and replies use extended headers",
         &extended_headers_go});
}

}  // namespace nbdref::conform
