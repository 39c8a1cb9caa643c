// Checks of extended headers (the extended-headers text of proto.md:
// "NBD_OPT_EXTENDED_HEADERS", "Extended reply chunk message",
// "NBD_REPLY_TYPE_BLOCK_STATUS_EXT", "NBD_CMD_FLAG_PAYLOAD_LEN"): the
// option's refusal by servers without them, and with them acknowledged,
// only extended replies, 64-bit lengths, extended block status and the
// payload flag. Servers without extended headers make the transmission
// checks not applicable.
#include "checks/areas.hpp"
#include "checks/check_support.hpp"
#include "checks/transmission_support.hpp"
#include "probe/probe_error.hpp"
#include "wire/bytes.hpp"
#include "wire/constants.hpp"
#include "wire/limits.hpp"
#include "wire/writer.hpp"

namespace nbdref::conform {
namespace {

using namespace wire;

// S-INT-004, S-INT-005 (proto.md "Baseline": an option the server does not
// implement gets NBD_REP_ERR_UNSUP and the next option is parsed).
Outcome refusal_well_formed(CheckContext& ctx) {
  Probe probe = ctx.connect_newstyle();
  const OptionReplies eh = probe.request_option(NBD_OPT_EXTENDED_HEADERS);
  if (eh.back().type == NBD_REP_ACK) {
    return ctx.not_applicable("the server implements extended headers");
  }
  const std::string required =
      "a server without extended headers answers NBD_OPT_EXTENDED_HEADERS with a single "
      "NBD_REP_ERR_UNSUP and goes on parsing options [S-INT-004, S-INT-005]";
  if (eh.size() != 1) return ctx.fail("the option got " + reply_types(eh), required);
  if (eh.back().type != NBD_REP_ERR_UNSUP) {
    return ctx.not_applicable("the server refused the option for another reason: " +
                              eh.back().describe());
  }
  expect_in_step(ctx, probe);
  return ctx.pass();
}

// X-S-026 (extended-headers text, "NBD_OPT_EXTENDED_HEADERS").
Outcome no_structured_replies_needed(CheckContext& ctx) {
  {
    Probe probe = ctx.connect_newstyle();
    if (probe.request_option(NBD_OPT_EXTENDED_HEADERS).back().type == NBD_REP_ACK) {
      return ctx.pass();
    }
  }
  Probe probe = ctx.connect_newstyle();
  if (probe.request_option(NBD_OPT_STRUCTURED_REPLY).back().type != NBD_REP_ACK) {
    return ctx.not_applicable("the server offers neither structured replies nor extended headers");
  }
  const OptionReplies eh = probe.request_option(NBD_OPT_EXTENDED_HEADERS);
  if (eh.back().type == NBD_REP_ACK) {
    return ctx.fail(
        "NBD_OPT_EXTENDED_HEADERS was refused on its own but acknowledged after "
        "NBD_OPT_STRUCTURED_REPLY",
        "NBD_OPT_EXTENDED_HEADERS is accepted without a prior "
        "NBD_OPT_STRUCTURED_REPLY [X-S-026]");
  }
  return ctx.not_applicable("the server does not offer extended headers (" + eh.back().describe() +
                            ")");
}

const char* const kExtendedOnly =
    "with extended headers negotiated every reply is made of extended chunks (magic 0x6e8a278c) "
    "whose offset field is the request's, never a simple reply, READs ending with a DONE chunk "
    "[X-S-004, X-S-005, X-S-006, X-S-028, X-S-038, X-B-001]";

// X-S-004, X-S-005, X-S-006, X-S-028, X-S-038, X-B-001 (extended-headers
// text, "Transmission", "Extended reply chunk message", "NBD_CMD_READ").
Outcome only_extended_replies(CheckContext& ctx) {
  OpenExport e = open_extended_export(ctx, {});
  const bool writable = !(e.flags & NBD_FLAG_READ_ONLY);
  const std::uint64_t at = writable ? ctx.scratch_offset(e.size) : 0;
  const auto data = test_pattern(kTestBlock, 31);
  struct Command {
    std::uint16_t type;
    std::uint16_t needs_flag;
    bool writes;
    std::uint64_t offset;
  };
  const std::uint64_t near_end = e.size >= 512 ? e.size - 512 : 0;
  const Command commands[] = {
      {NBD_CMD_WRITE, 0, true, at},
      {NBD_CMD_READ, 0, false, at},
      {NBD_CMD_FLUSH, NBD_FLAG_SEND_FLUSH, false, 0},
      {NBD_CMD_TRIM, NBD_FLAG_SEND_TRIM, true, at},
      {NBD_CMD_WRITE_ZEROES, NBD_FLAG_SEND_WRITE_ZEROES, true, at},
      {NBD_CMD_CACHE, NBD_FLAG_SEND_CACHE, false, at},
      // An error reply too.
      {NBD_CMD_READ, 0, false, near_end},
  };
  std::string tried;
  for (const Command& c : commands) {
    if ((c.needs_flag && !(e.flags & c.needs_flag)) || (c.writes && !writable)) continue;
    const bool flush = c.type == NBD_CMD_FLUSH;
    // With extended headers a WRITE sets NBD_CMD_FLAG_PAYLOAD_LEN
    // (extended-headers text, "Request message").
    const std::uint16_t flags = c.type == NBD_CMD_WRITE ? NBD_CMD_FLAG_PAYLOAD_LEN : 0;
    const RequestHeader request =
        e.probe.send_request(c.type, flags, c.offset, flush ? 0 : kTestBlock,
                             c.type == NBD_CMD_WRITE ? std::span<const std::uint8_t>(data)
                                                     : std::span<const std::uint8_t>());
    const TransmissionReply reply = e.probe.read_reply(request);
    if (auto problem = reply_rule_problem(request, reply, e.probe)) {
      return ctx.fail(*problem, kExtendedOnly);
    }
    tried += (tried.empty() ? "" : ", ") + describe_command(c.type) + " (" +
             describe_chunks(reply) + ")";
  }
  return ctx.pass(tried);
}

// A connection with extended headers and base:allocation selected.
ContextExport extended_allocation(CheckContext& ctx) {
  return open_context_export(ctx, {"base:allocation"}, true);
}

// X-S-007, X-S-031, X-S-033, X-S-034, X-S-035, X-S-036, X-S-037, X-S-041
// (extended-headers text, "Metadata querying",
// "NBD_REPLY_TYPE_BLOCK_STATUS_EXT").
Outcome block_status_ext(CheckContext& ctx) {
  ContextExport c = extended_allocation(ctx);
  const std::uint64_t length = std::min<std::uint64_t>(c.open.size, 1 << 20);
  const RequestHeader request = c.open.probe.send_request(NBD_CMD_BLOCK_STATUS, 0, 0, length);
  const TransmissionReply reply = c.open.probe.read_reply(request);
  const std::string required =
      "with extended headers a successful BLOCK_STATUS has one NBD_REPLY_TYPE_BLOCK_STATUS_EXT "
      "chunk per selected context, of 8 + 16n bytes with n >= 1 nonzero extents, multiples of "
      "the minimum block size, base: statuses with the upper 32 bits clear [X-S-007, X-S-031, "
      "X-S-033, X-S-034, X-S-035, X-S-036, X-S-037, X-S-041]";
  if (auto problem = reply_rule_problem(request, reply, c.open.probe))
    return ctx.fail(*problem, required);
  require_success(reply, "NBD_CMD_BLOCK_STATUS of the export's start");
  const auto chunks = status_chunks(reply);
  if (chunks.size() != c.contexts.size()) {
    return ctx.fail(std::to_string(chunks.size()) + " status chunks for " +
                        std::to_string(c.contexts.size()) + " selected contexts (" +
                        describe_chunks(reply) + ")",
                    required);
  }
  const auto sizes = advertised_block_size(ctx);
  const std::uint64_t minimum = sizes ? sizes->minimum : 1;
  for (const BlockStatusView& v : chunks) {
    std::uint64_t at = 0;
    for (std::size_t i = 0; i < v.size(); ++i) {
      at += v[i].length;
      if (v[i].length % minimum != 0 && at < c.open.size) {
        return ctx.fail("extent " + std::to_string(i + 1) + " is " + std::to_string(v[i].length) +
                            " bytes, the minimum block size " + std::to_string(minimum),
                        required);
      }
      if (v[i].status >> 32) {
        return ctx.fail("extent " + std::to_string(i + 1) + " of base:allocation has status " +
                            std::to_string(v[i].status),
                        required);
      }
    }
  }
  return ctx.pass();
}

// X-S-003 (extended-headers text, "Request message": 64-bit effect lengths).
Outcome sixty_four_bit_length(CheckContext& ctx) {
  ContextExport c = extended_allocation(ctx);
  const std::uint64_t length = (std::uint64_t{1} << 32) + kTestBlock;
  const std::string required =
      "an extended request without PAYLOAD_LEN carries a 64-bit effect length: a BLOCK_STATUS "
      "over 4 GiB is served or cleanly refused [X-S-003]";
  try {
    const RequestHeader request = c.open.probe.send_request(NBD_CMD_BLOCK_STATUS, 0, 0, length);
    const TransmissionReply reply = c.open.probe.read_reply(request);
    if (auto problem = reply_rule_problem(request, reply, c.open.probe))
      return ctx.fail(*problem, required);
    require_success(
        round_trip(c.open.probe, NBD_CMD_READ, 0, 0, std::min<std::uint64_t>(c.open.size, 512)),
        "the READ after it");
    return ctx.pass(describe_chunks(reply));
  } catch (const ProbeError& err) {
    if (err.kind() != ProbeError::Kind::Closed) throw;
    return ctx.fail("a BLOCK_STATUS of " + std::to_string(length) +
                        " bytes made the server close the connection",
                    required);
  }
}

// X-S-042 (extended-headers text, "NBD_CMD_BLOCK_STATUS").
Outcome block_status_past_end(CheckContext& ctx) {
  ContextExport c = extended_allocation(ctx);
  const RequestHeader request =
      c.open.probe.send_request(NBD_CMD_BLOCK_STATUS, 0, 0, c.open.size + kTestBlock);
  const TransmissionReply reply = c.open.probe.read_reply(request);
  require_valid_reply(request, reply, c.open.probe);
  if (reply.error() != NBD_EINVAL) {
    return ctx.fail(
        "a BLOCK_STATUS whose effect length exceeds the export got " + describe_chunks(reply),
        "a BLOCK_STATUS whose effect length exceeds the export fails with NBD_EINVAL "
        "[X-S-042]");
  }
  return ctx.pass();
}

// Sends `type` with NBD_CMD_FLAG_PAYLOAD_LEN and `payload`; the server must
// consume the payload, answer NBD_EINVAL and go on with the next request.
Outcome expect_payload_refused(CheckContext& ctx, OpenExport& e, std::uint16_t type,
                               std::uint64_t offset, const std::vector<std::uint8_t>& payload,
                               const std::string& what, const std::string& required) {
  try {
    const RequestHeader request =
        e.probe.send_request(type, NBD_CMD_FLAG_PAYLOAD_LEN, offset, payload.size(), payload);
    const TransmissionReply reply = e.probe.read_reply(request);
    if (auto problem = reply_rule_problem(request, reply, e.probe))
      return ctx.fail(*problem, required);
    if (reply.error() != NBD_EINVAL) {
      return ctx.fail(what + " got " + describe_chunks(reply), required);
    }
    const TransmissionReply next =
        round_trip(e.probe, NBD_CMD_READ, 0, 0, std::min<std::uint64_t>(e.size, 512));
    if (next.error() != 0) {
      return ctx.fail("the READ after " + what + " got " + describe_chunks(next), required);
    }
  } catch (const ProbeError& err) {
    if (err.kind() != ProbeError::Kind::Closed) throw;
    return ctx.fail(what + " made the server close the connection", required);
  }
  return ctx.pass();
}

// X-S-030, X-S-002 (extended-headers text, "Request message",
// "NBD_CMD_FLAG_PAYLOAD_LEN").
Outcome payload_len_on_read(CheckContext& ctx) {
  OpenExport e = open_extended_export(ctx, {});
  return expect_payload_refused(ctx, e, NBD_CMD_READ, 0, test_pattern(16, 33),
                                "NBD_CMD_READ with PAYLOAD_LEN and 16 bytes of payload",
                                "PAYLOAD_LEN on a command without a payload form fails with "
                                "NBD_EINVAL after the payload is consumed; the next request is "
                                "served [X-S-030, X-S-002]");
}

// X-S-040 (extended-headers text, "NBD_CMD_BLOCK_STATUS"): whether the
// payload form is unsupported or names an id no context has.
Outcome block_status_payload_unknown_id(CheckContext& ctx) {
  ContextExport c = extended_allocation(ctx);
  std::uint32_t unknown = 0x4e420000;
  for (const auto& context : c.contexts) unknown = std::max(unknown, context.first + 1);
  std::vector<std::uint8_t> payload;
  Writer w(payload);
  w.be64(std::min<std::uint64_t>(c.open.size, kTestBlock));
  w.be32(unknown);
  return expect_payload_refused(
      ctx, c.open, NBD_CMD_BLOCK_STATUS, 0, payload,
      "NBD_CMD_BLOCK_STATUS with a payload naming context id " + std::to_string(unknown),
      "a BLOCK_STATUS payload the server does not support, or naming "
      "an unknown context id, is consumed and fails with NBD_EINVAL "
      "[X-S-040]");
}

// X-S-001 (extended-headers text, "Request message"): a payload announced
// beyond the maximum is not read; the server hard-disconnects. Only the
// header is sent; it breaks C-SZ-008 on purpose, as the clause is about
// such a client.
Outcome oversized_payload_disconnects(CheckContext& ctx) {
  OpenExport e = open_extended_export(ctx, {});
  const auto sizes = advertised_block_size(ctx);
  const std::uint64_t maximum =
      sizes && sizes->maximum != 0xffffffffu ? sizes->maximum : DEFAULT_MAX_PAYLOAD;
  // Nothing is written: the payload never comes.
  e.probe.send_request(NBD_CMD_WRITE, NBD_CMD_FLAG_PAYLOAD_LEN, 0, maximum + 1);
  const ByteChannel::CloseWait wait = e.probe.channel().await_close(std::chrono::seconds(3));
  const std::string required =
      "a request announcing with PAYLOAD_LEN a payload beyond the maximum payload makes the server "
      "disconnect [X-S-001]";
  if (!wait.closed) {
    return ctx.fail(wait.bytes.empty()
                        ? "the connection stayed open after a WRITE announcing " +
                              std::to_string(maximum + 1) + " bytes of payload"
                        : "the server answered a WRITE announcing " + std::to_string(maximum + 1) +
                              " bytes of payload with " + std::to_string(wait.bytes.size()) +
                              " bytes",
                    required);
  }
  return ctx.pass();
}

// X-S-043 (extended-headers text, "Maximum interoperability"): a server
// offering extended headers does not force them on a client: NBD_OPT_GO
// without them succeeds and compact requests are served.
Outcome compact_headers_still_work(CheckContext& ctx) {
  {
    Probe probe = ctx.connect_newstyle();
    const OptionReplies eh = probe.request_option(NBD_OPT_EXTENDED_HEADERS);
    if (eh.back().type != NBD_REP_ACK) {
      return ctx.not_applicable("the server does not offer extended headers (" +
                                eh.back().describe() + ")");
    }
  }
  Probe probe = ctx.connect_newstyle();
  const OptionReplies go = probe.request_info(NBD_OPT_GO, ctx.export_name());
  const std::string required =
      "a server offering extended headers does not force them with "
      "NBD_REP_ERR_EXT_HEADER_REQD: compact headers keep working [X-S-043]";
  if (go.back().type == NBD_REP_ERR_EXT_HEADER_REQD) {
    return ctx.fail("NBD_OPT_GO without extended headers was answered " + go.back().describe(),
                    required);
  }
  if (go.back().type != NBD_REP_ACK) {
    throw CheckAbort{Status::Error,
                     "the check cannot go on: NBD_OPT_GO was answered " + go.back().describe()};
  }
  const auto info = find_export_info(decode_infos(go));
  const TransmissionReply r = round_trip(
      probe, NBD_CMD_READ, 0, 0, std::min<std::uint64_t>(info ? info->export_size : 0, 512));
  if (r.error() != 0) {
    return ctx.fail(
        "a compact NBD_CMD_READ after NBD_OPT_GO without extended headers got a " + r.describe(),
        required);
  }
  return ctx.pass();
}

// X-S-011 (extended-headers text, "Transmission flags").
Outcome payload_flag_needs_contexts(CheckContext& ctx) {
  OpenExport e = open_extended_export(ctx, {});
  if (e.flags & NBD_FLAG_BLOCK_STATUS_PAYLOAD) {
    return ctx.fail(
        "NBD_OPT_GO without meta contexts gave flags " + describe_transmission_flags(e.flags),
        "NBD_FLAG_BLOCK_STATUS_PAYLOAD is not advertised when no meta context was "
        "negotiated [X-S-011]");
  }
  return ctx.pass();
}

}  // namespace

void add_extended_header_checks(Catalogue& c) {
  const std::string area = "extended-headers";
  c.add({"eh.refusal-well-formed",
         area,
         {"S-INT-004", "S-INT-005"},
         Level::Must,
         "a server without extended headers answers the option with NBD_REP_ERR_UNSUP",
         &refusal_well_formed});
  c.add({"eh.no-structured-replies-needed",
         area,
         {"X-S-026"},
         Level::Should,
         "NBD_OPT_EXTENDED_HEADERS is accepted without NBD_OPT_STRUCTURED_REPLY first",
         &no_structured_replies_needed});
  c.add({"eh.only-extended-replies",
         area,
         {"X-S-004", "X-S-005", "X-S-006", "X-S-028", "X-S-038", "X-B-001"},
         Level::Must,
         "with extended headers every command gets extended chunks carrying its offset",
         &only_extended_replies});
  c.add({"eh.block-status-ext",
         area,
         {"X-S-007", "X-S-031", "X-S-033", "X-S-034", "X-S-035", "X-S-036", "X-S-037", "X-S-041"},
         Level::Must,
         "with extended headers BLOCK_STATUS gets one valid BLOCK_STATUS_EXT chunk per context",
         &block_status_ext});
  c.add({"eh.64-bit-length",
         area,
         {"X-S-003"},
         Level::Must,
         "a BLOCK_STATUS of more than 4 GiB is served or cleanly refused",
         &sixty_four_bit_length});
  c.add({"eh.block-status-past-end",
         area,
         {"X-S-042"},
         Level::Should,
         "a BLOCK_STATUS whose effect length exceeds the export fails with NBD_EINVAL",
         &block_status_past_end});
  c.add({"eh.payload-len-on-read",
         area,
         {"X-S-030", "X-S-002"},
         Level::Must,
         "READ with NBD_CMD_FLAG_PAYLOAD_LEN fails with NBD_EINVAL and the session goes on",
         &payload_len_on_read});
  c.add({"eh.block-status-payload-unknown-id",
         area,
         {"X-S-040"},
         Level::Must,
         "a BLOCK_STATUS payload naming an unknown context id fails with NBD_EINVAL",
         &block_status_payload_unknown_id});
  c.add({"eh.oversized-payload-disconnects",
         area,
         {"X-S-001"},
         Level::Should,
         "a WRITE announcing a payload beyond the maximum makes the server disconnect",
         &oversized_payload_disconnects});
  c.add({"eh.compact-headers-still-work",
         area,
         {"X-S-043"},
         Level::ShouldNot,
         "a server offering extended headers still serves clients that do not negotiate them",
         &compact_headers_still_work});
  c.add({"eh.payload-flag-needs-contexts",
         area,
         {"X-S-011"},
         Level::ShouldNot,
         "NBD_FLAG_BLOCK_STATUS_PAYLOAD is not advertised without meta contexts",
         &payload_flag_needs_contexts});
}

}  // namespace nbdref::conform
