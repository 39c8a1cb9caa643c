// Checks of NBD_CMD_BLOCK_STATUS with the base:allocation context (proto.md
// "Metadata querying", "NBD_CMD_BLOCK_STATUS", "Structured reply types"):
// one status chunk per selected context with its negotiated id, extent
// lengths, ordering and coverage, flags, REQ_ONE, and the errors for a
// request without contexts, past the end and of length zero.
#include "checks/areas.hpp"
#include "checks/check_support.hpp"
#include "checks/transmission_support.hpp"
#include "probe/probe_error.hpp"
#include "wire/constants.hpp"

namespace nbdref::conform {
namespace {

using namespace wire;

constexpr std::uint64_t kPart = 64 * 1024;
// base:allocation's defined bits (proto.md "base:allocation metadata
// context"): NBD_STATE_HOLE (bit 0) and NBD_STATE_ZERO (bit 1).
constexpr std::uint64_t kAllocationBits = (1u << 0) | (1u << 1);

// A connection with base:allocation selected, and the range a query covers:
// the check's region written as data / zeroes / data on a writable export,
// the export's first bytes on a read-only one.
struct StatusSetup {
  ContextExport open;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

StatusSetup status_setup(CheckContext& ctx, std::size_t seed) {
  StatusSetup s{open_context_export(ctx, {"base:allocation"}, false)};
  OpenExport& e = s.open.open;
  if (e.flags & NBD_FLAG_READ_ONLY) {
    s.length = std::min<std::uint64_t>(e.size, 3 * kPart);
    if (s.length == 0) throw CheckAbort{Status::NotApplicable, "the export is empty"};
    return s;
  }
  s.offset = ctx.scratch_offset(e.size);
  s.length = 3 * kPart;
  // C-SZ-008: writes within the maximum payload.
  const std::uint64_t limit = payload_limit(ctx);
  require_success(write_in_pieces(e.probe, s.offset, test_pattern(kPart, seed), limit),
                  "writing test data");
  if (e.flags & NBD_FLAG_SEND_WRITE_ZEROES) {
    require_success(round_trip(e.probe, NBD_CMD_WRITE_ZEROES, 0, s.offset + kPart, kPart),
                    "zeroing the middle of the region");
  }
  require_success(
      write_in_pieces(e.probe, s.offset + 2 * kPart, test_pattern(kPart, seed + 1), limit),
      "writing test data");
  return s;
}

const char* const kChunkRequirement =
    "a successful NBD_CMD_BLOCK_STATUS gets a structured reply with exactly one "
    "NBD_REPLY_TYPE_BLOCK_STATUS chunk per selected context, carrying its negotiated id and at "
    "least one descriptor of nonzero length (NBD_REPLY_TYPE_BLOCK_STATUS_EXT only with extended "
    "headers)";

// A status query whose reply must follow the chunk rules and succeed; the
// decoded chunk of the one selected context.
struct StatusAnswer {
  RequestHeader request;
  TransmissionReply reply;
};

StatusAnswer query(StatusSetup& s, std::uint16_t flags) {
  Probe& probe = s.open.open.probe;
  StatusAnswer a;
  a.request = probe.send_request(NBD_CMD_BLOCK_STATUS, flags, s.offset, s.length);
  a.reply = probe.read_reply(a.request);
  return a;
}

// The problem with a reply to a status query, judged by the chunk rules
// and S-BS-001, S-BS-004, S-BS-051; nothing when it is a valid success. A
// valid refusal breaks no rule but leaves nothing to judge: the check
// aborts as an error.
std::optional<std::string> status_reply_problem(const StatusSetup& s, const StatusAnswer& a) {
  if (a.reply.is_simple()) {
    return "NBD_CMD_BLOCK_STATUS got a " + a.reply.describe() + " [S-BS-004]";
  }
  if (auto problem = reply_rule_problem(a.request, a.reply, s.open.open.probe)) return problem;
  if (a.reply.error() != 0) {
    throw CheckAbort{Status::Error,
                     "the check cannot go on: NBD_CMD_BLOCK_STATUS of a range inside the export "
                     "failed (" +
                         describe_chunks(a.reply) + ")"};
  }
  const auto chunks = status_chunks(a.reply);
  for (const auto& [id, name] : s.open.contexts) {
    std::size_t found = 0;
    for (const BlockStatusView& v : chunks) found += v.context_id() == id;
    if (found != 1) {
      return std::to_string(found) + " status chunks for context " + name + " (id " +
             std::to_string(id) + ") [S-BS-001]";
    }
  }
  if (chunks.size() != s.open.contexts.size()) {
    return std::to_string(chunks.size()) + " status chunks for " +
           std::to_string(s.open.contexts.size()) +
           " selected contexts: a chunk names an id SET_META_CONTEXT did not give [S-BS-001]";
  }
  return std::nullopt;
}

// The decoded chunk of a valid reply (status_reply_problem found nothing).
BlockStatusView only_chunk(const StatusAnswer& a) {
  return status_chunks(a.reply).front();
}

std::string describe_extents(const BlockStatusView& v) {
  std::string out;
  for (std::size_t i = 0; i < v.size() && i < 16; ++i) {
    if (!out.empty()) out += ", ";
    out += std::to_string(v[i].length) + " bytes status " + std::to_string(v[i].status);
  }
  if (v.size() > 16) out += ", ... (" + std::to_string(v.size()) + " extents)";
  return out;
}

// S-BS-001, S-BS-004, S-BS-051, S-BS-041, S-BS-042 (proto.md "Metadata
// querying", "NBD_CMD_BLOCK_STATUS", "Structured reply types"); X-S-032:
// no NBD_REPLY_TYPE_BLOCK_STATUS_EXT without extended headers.
Outcome one_chunk_per_context(CheckContext& ctx) {
  StatusSetup s = status_setup(ctx, 1);
  const StatusAnswer a = query(s, 0);
  if (auto problem = status_reply_problem(s, a)) return ctx.fail(*problem, kChunkRequirement);
  return ctx.pass(describe_extents(only_chunk(a)));
}

// S-BS-044, S-BS-050 (proto.md "NBD_CMD_BLOCK_STATUS", "Structured reply
// types").
Outcome extents_within_request(CheckContext& ctx) {
  StatusSetup s = status_setup(ctx, 3);
  const StatusAnswer a = query(s, 0);
  if (auto problem = status_reply_problem(s, a)) return ctx.fail(*problem, kChunkRequirement);
  const BlockStatusView v = only_chunk(a);
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i + 1 < v.size(); ++i) {
    sum += v[i].length;
    if (sum >= s.length) {
      return ctx.fail("the first " + std::to_string(i + 1) + " extents already cover " +
                          std::to_string(sum) + " of the " + std::to_string(s.length) +
                          " bytes asked, yet more follow: " + describe_extents(v),
                      "extents are consecutive from the request's offset and only the last may "
                      "reach past its end [S-BS-044, S-BS-050]");
    }
  }
  return ctx.pass(describe_extents(v));
}

// S-BS-018 (proto.md "base:allocation metadata context").
Outcome allocation_flags(CheckContext& ctx) {
  StatusSetup s = status_setup(ctx, 5);
  const StatusAnswer a = query(s, 0);
  if (auto problem = status_reply_problem(s, a)) return ctx.fail(*problem, kChunkRequirement);
  const BlockStatusView v = only_chunk(a);
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i].status & ~kAllocationBits) {
      return ctx.fail("base:allocation extent " + std::to_string(i + 1) + " has status " +
                          std::to_string(v[i].status),
                      "base:allocation sets no bits but NBD_STATE_HOLE and NBD_STATE_ZERO "
                      "[S-BS-018]");
    }
  }
  return ctx.pass();
}

// S-BS-040, S-BS-043 (proto.md "Command flags": NBD_CMD_FLAG_REQ_ONE).
Outcome req_one(CheckContext& ctx) {
  StatusSetup s = status_setup(ctx, 7);
  const StatusAnswer a = query(s, NBD_CMD_FLAG_REQ_ONE);
  const std::string required =
      "with NBD_CMD_FLAG_REQ_ONE each status chunk has exactly one extent, no longer than the "
      "request [S-BS-040, S-BS-043]";
  if (auto problem = status_reply_problem(s, a)) return ctx.fail(*problem, kChunkRequirement);
  const BlockStatusView v = only_chunk(a);
  if (v.size() != 1 || v[0].length > s.length) {
    return ctx.fail(
        "a REQ_ONE query of " + std::to_string(s.length) + " bytes got " + describe_extents(v),
        required);
  }
  return ctx.pass(describe_extents(v));
}

// S-BS-053 (proto.md "NBD_CMD_BLOCK_STATUS": extents on 512 bytes), S-BS-054
// (on the advertised minimum block size).
Outcome extents_aligned(CheckContext& ctx) {
  const auto sizes = advertised_block_size(ctx);
  const std::uint64_t unit = std::max<std::uint64_t>(512, sizes ? sizes->minimum : 1);
  StatusSetup s = status_setup(ctx, 9);
  const StatusAnswer a = query(s, 0);
  if (auto problem = status_reply_problem(s, a)) return ctx.fail(*problem, kChunkRequirement);
  const BlockStatusView v = only_chunk(a);
  std::uint64_t at = s.offset;
  for (std::size_t i = 0; i < v.size(); ++i) {
    at += v[i].length;
    // An extent ending at an unaligned end of the export is excepted.
    if (v[i].length % unit != 0 && at != s.open.open.size) {
      return ctx.fail(
          "a " + std::to_string(unit) + "-aligned query got extents " + describe_extents(v),
          "extent lengths are multiples of 512 and of the advertised minimum block "
          "size, but at an unaligned end of the export [S-BS-053, S-BS-054]");
    }
  }
  return ctx.pass();
}

// S-BS-052 (proto.md "NBD_CMD_BLOCK_STATUS": merge equal neighbours).
Outcome neighbours_differ(CheckContext& ctx) {
  StatusSetup s = status_setup(ctx, 11);
  const StatusAnswer a = query(s, 0);
  if (auto problem = status_reply_problem(s, a)) return ctx.fail(*problem, kChunkRequirement);
  const BlockStatusView v = only_chunk(a);
  for (std::size_t i = 1; i < v.size(); ++i) {
    if (v[i].status == v[i - 1].status) {
      return ctx.fail("extents " + std::to_string(i) + " and " + std::to_string(i + 1) +
                          " have the same status: " + describe_extents(v),
                      "consecutive extents have different status values [S-BS-052]");
    }
  }
  return ctx.pass(describe_extents(v));
}

// Runs one BLOCK_STATUS request that the server should refuse with
// NBD_EINVAL in an error chunk.
Outcome expect_status_einval(CheckContext& ctx, Probe& probe, std::uint64_t offset,
                             std::uint64_t length, const std::string& what,
                             const std::string& required) {
  const RequestHeader request = probe.send_request(NBD_CMD_BLOCK_STATUS, 0, offset, length);
  TransmissionReply reply;
  try {
    reply = probe.read_reply(request);
  } catch (const ProbeError& err) {
    if (err.kind() != ProbeError::Kind::Closed) throw;
    return ctx.fail(what + " made the server close the connection", required);
  }
  if (auto problem = reply_rule_problem(request, reply, probe)) {
    return ctx.fail(*problem, required);
  }
  if (reply.error() != NBD_EINVAL || reply.is_simple()) {
    return ctx.fail(what + " was answered with " + describe_chunks(reply), required);
  }
  return ctx.pass();
}

// S-BS-003, S-BS-057 (proto.md "Metadata querying", "NBD_CMD_BLOCK_STATUS").
Outcome without_context_einval(CheckContext& ctx) {
  ExportSetup setup;
  setup.structured_replies = true;
  OpenExport e = ctx.open_export(setup);
  return expect_status_einval(ctx, e.probe, 0, std::min<std::uint64_t>(e.size, kTestBlock),
                              "NBD_CMD_BLOCK_STATUS without a selected context",
                              "NBD_CMD_BLOCK_STATUS without any selected context fails with "
                              "NBD_EINVAL, sent as an error chunk [S-BS-003, S-BS-057]");
}

// S-BS-059, S-BS-057 (proto.md "NBD_CMD_BLOCK_STATUS").
Outcome past_end_einval(CheckContext& ctx) {
  ContextExport c = open_context_export(ctx, {"base:allocation"}, false);
  const std::uint64_t size = c.open.size;
  return expect_status_einval(ctx, c.open.probe, size >= 512 ? size - 512 : 0, kTestBlock,
                              "NBD_CMD_BLOCK_STATUS reaching past the end",
                              "NBD_CMD_BLOCK_STATUS past the end fails with NBD_EINVAL, sent as "
                              "an error chunk [S-BS-059, S-BS-057]");
}

// S-BS-048 (proto.md "NBD_CMD_BLOCK_STATUS").
Outcome zero_length(CheckContext& ctx) {
  ContextExport c = open_context_export(ctx, {"base:allocation"}, false);
  Probe& probe = c.open.probe;
  try {
    const RequestHeader request = probe.send_request(NBD_CMD_BLOCK_STATUS, 0, 0, 0);
    const TransmissionReply reply = probe.read_reply(request);
    round_trip(probe, NBD_CMD_READ, 0, 0, std::min<std::uint64_t>(c.open.size, 512));
    return ctx.pass(describe_chunks(reply));
  } catch (const ProbeError& err) {
    if (err.kind() != ProbeError::Kind::Closed) throw;
    return ctx.fail("a zero-length NBD_CMD_BLOCK_STATUS made the server close the connection",
                    "a zero-length NBD_CMD_BLOCK_STATUS does not disconnect [S-BS-048]");
  }
}

// S-BS-033 (proto.md "NBD_OPT_SET_META_CONTEXT": each request replaces the
// selection).
Outcome empty_set_clears(CheckContext& ctx) {
  Probe probe = ctx.connect_newstyle();
  const OptionReplies sr = probe.request_option(NBD_OPT_STRUCTURED_REPLY);
  if (sr.back().type != NBD_REP_ACK) {
    return ctx.not_applicable("the server does not offer structured replies");
  }
  const OptionReplies first =
      probe.request_meta_context(NBD_OPT_SET_META_CONTEXT, ctx.export_name(), {"base:allocation"});
  if (first.back().type != NBD_REP_ACK || first.size() < 2) {
    return ctx.not_applicable("the server selected no context for base:allocation");
  }
  const OptionReplies second =
      probe.request_meta_context(NBD_OPT_SET_META_CONTEXT, ctx.export_name(), {});
  if (second.size() != 1) {
    return ctx.fail("NBD_OPT_SET_META_CONTEXT with no queries got " + reply_types(second),
                    "SET_META_CONTEXT with zero queries selects nothing [S-BS-035]");
  }
  const OptionReplies go = probe.request_info(NBD_OPT_GO, ctx.export_name());
  if (go.back().type != NBD_REP_ACK) {
    throw CheckAbort{Status::Error, "cannot open the export: " + go.back().describe()};
  }
  const auto info = find_export_info(decode_infos(go));
  const std::uint64_t length = std::min<std::uint64_t>(info ? info->export_size : 0, kTestBlock);
  const RequestHeader request = probe.send_request(NBD_CMD_BLOCK_STATUS, 0, 0, length);
  TransmissionReply reply;
  try {
    reply = probe.read_reply(request);
  } catch (const ProbeError& err) {
    if (err.kind() != ProbeError::Kind::Closed) throw;
    return ctx.pass("the server closed the connection: no context was selected");
  }
  if (!status_chunks(reply).empty()) {
    return ctx.fail("after a second, empty NBD_OPT_SET_META_CONTEXT, NBD_CMD_BLOCK_STATUS got " +
                        describe_chunks(reply),
                    "each SET_META_CONTEXT replaces the whole selection: after an empty one, "
                    "no context is selected [S-BS-033]");
  }
  return ctx.pass(describe_chunks(reply));
}

}  // namespace

void add_block_status_checks(Catalogue& c) {
  const std::string area = "block-status";
  c.add({"bs.one-chunk-per-context",
         area,
         {"S-BS-001", "S-BS-004", "S-BS-051", "S-BS-041", "S-BS-042", "X-S-032"},
         Level::Must,
         "BLOCK_STATUS gets one valid status chunk per selected context, with its id",
         &one_chunk_per_context});
  c.add({"bs.extents-within-request",
         area,
         {"S-BS-044", "S-BS-050"},
         Level::Must,
         "extents run from the request's offset; only the last reaches past its end",
         &extents_within_request});
  c.add({"bs.allocation-flags",
         area,
         {"S-BS-018"},
         Level::Should,
         "base:allocation extents set only NBD_STATE_HOLE and NBD_STATE_ZERO",
         &allocation_flags});
  c.add({"bs.req-one",
         area,
         {"S-BS-040", "S-BS-043"},
         Level::Must,
         "with NBD_CMD_FLAG_REQ_ONE the chunk has exactly one extent within the request",
         &req_one});
  c.add({"bs.extents-aligned",
         area,
         {"S-BS-053", "S-BS-054"},
         Level::Should,
         "extent lengths of an aligned query are multiples of 512 and the minimum block size",
         &extents_aligned});
  c.add({"bs.neighbours-differ",
         area,
         {"S-BS-052"},
         Level::Should,
         "consecutive extents have different status values",
         &neighbours_differ});
  c.add({"bs.without-context-einval",
         area,
         {"S-BS-003", "S-BS-057"},
         Level::Should,
         "BLOCK_STATUS without a selected context fails with NBD_EINVAL in an error chunk",
         &without_context_einval});
  c.add({"bs.past-end-einval",
         area,
         {"S-BS-059", "S-BS-057"},
         Level::Should,
         "BLOCK_STATUS past the end fails with NBD_EINVAL in an error chunk",
         &past_end_einval});
  c.add({"bs.zero-length",
         area,
         {"S-BS-048"},
         Level::ShouldNot,
         "a zero-length BLOCK_STATUS does not disconnect",
         &zero_length});
  c.add({"bs.empty-set-clears",
         area,
         {"S-BS-033", "S-BS-035"},
         Level::Must,
         "after an empty NBD_OPT_SET_META_CONTEXT no context answers BLOCK_STATUS",
         &empty_set_clears});
}

}  // namespace nbdref::conform
