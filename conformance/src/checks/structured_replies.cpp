// Checks of structured replies (proto.md "Structured reply chunk message",
// "Structured reply types", "NBD_CMD_READ", "NBD_OPT_STRUCTURED_REPLY"):
// the chunk rules on reads of data and holes, holes reading as zeroes,
// NBD_CMD_FLAG_DF, a valid structured reply to every command, and errors as
// error chunks. Checks that write use their own region of the export.
#include <algorithm>

#include "checks/areas.hpp"
#include "checks/transmission_support.hpp"
#include "probe/probe_error.hpp"
#include "wire/bytes.hpp"
#include "wire/constants.hpp"

namespace nbdref::conform {
namespace {

using namespace wire;

// Each part of the region a read covers: data, zeroes, data.
constexpr std::uint64_t kPart = 64 * 1024;

OpenExport open_structured(CheckContext& ctx) {
  ExportSetup setup;
  setup.structured_replies = true;
  return ctx.open_export(setup);
}

// Where a check reads a mix of data and (when the export is writable)
// zeroes: its own region, written data / zeroes / data in writes within
// the maximum payload; the export's start on a read-only export.
std::uint64_t prepare_mixed_region(CheckContext& ctx, OpenExport& e, std::size_t seed) {
  if (e.flags & NBD_FLAG_READ_ONLY) {
    if (e.size < 3 * kPart) throw CheckAbort{Status::NotApplicable, "the export is too small"};
    return 0;
  }
  const std::uint64_t at = ctx.scratch_offset(e.size);
  const std::uint64_t limit = payload_limit(ctx);
  require_success(write_in_pieces(e.probe, at, test_pattern(kPart, seed), limit),
                  "writing the test data");
  if (e.flags & NBD_FLAG_SEND_WRITE_ZEROES) {
    require_success(round_trip(e.probe, NBD_CMD_WRITE_ZEROES, 0, at + kPart, kPart),
                    "zeroing the middle of the region");
  } else {
    require_success(
        write_in_pieces(e.probe, at + kPart, std::vector<std::uint8_t>(kPart, 0), limit),
        "writing zeroes to the middle of the region");
  }
  require_success(write_in_pieces(e.probe, at + 2 * kPart, test_pattern(kPart, seed + 1), limit),
                  "writing the test data");
  return at;
}

// Reads `length` bytes at `offset` and judges the reply's chunk rules.
struct JudgedRead {
  RequestHeader request;
  TransmissionReply reply;
  std::optional<std::string> problem;
};
JudgedRead judged_read(Probe& probe, std::uint16_t flags, std::uint64_t offset,
                       std::uint64_t length) {
  JudgedRead r;
  r.request = probe.send_request(NBD_CMD_READ, flags, offset, length);
  r.reply = probe.read_reply(r.request);
  r.problem = reply_rule_problem(r.request, r.reply, probe);
  return r;
}

const char* const kChunkRules =
    "a structured READ reply: chunks of the negotiated magic, the last and only the last "
    "flagged DONE, NONE only as that last chunk, valid OFFSET_DATA/OFFSET_HOLE lengths, "
    "inside the request, not overlapping, covering every byte";

// S-SR-011, S-SR-037, S-SR-014, S-SR-015, S-SR-016, S-SR-018, S-SR-019,
// S-SR-020, S-SR-021, S-SR-022, S-SR-024, S-SR-025, S-SR-039, S-SR-045
// (proto.md "Structured reply types", "NBD_CMD_READ").
Outcome read_chunk_rules(CheckContext& ctx) {
  OpenExport e = open_structured(ctx);
  const std::uint64_t at = prepare_mixed_region(ctx, e, 1);
  const JudgedRead r = judged_read(e.probe, 0, at, 3 * kPart);
  if (r.problem) return ctx.fail(*r.problem, kChunkRules);
  if (r.reply.error() != 0) {
    return ctx.fail("NBD_CMD_READ of written data failed: " + r.reply.describe(),
                    "every server implements NBD_CMD_READ [S-INT-008]");
  }
  if (!(e.flags & NBD_FLAG_READ_ONLY)) {
    const auto data = read_content(r.request, r.reply);
    const auto first = test_pattern(kPart, 1);
    const auto last = test_pattern(kPart, 2);
    if (!std::equal(first.begin(), first.end(), data.begin()) ||
        !std::equal(last.begin(), last.end(), data.begin() + 2 * kPart)) {
      return ctx.fail("the chunks of the READ reply (" + describe_chunks(r.reply) +
                          ") put together are not the data written",
                      "content chunks carry the data at the offsets they name [S-SR-021]");
    }
  }
  return ctx.pass(describe_chunks(r.reply));
}

// S-TX-051, S-SR-045 (proto.md "NBD_CMD_WRITE_ZEROES", "NBD_CMD_READ").
Outcome holes_read_as_zero(CheckContext& ctx) {
  OpenExport e = open_structured(ctx);
  require_writable(e);
  require_flag(e, NBD_FLAG_SEND_WRITE_ZEROES, "NBD_FLAG_SEND_WRITE_ZEROES");
  const std::uint64_t at = ctx.scratch_offset(e.size);
  // C-SZ-008: no WRITE beyond the maximum payload.
  require_success(write_in_pieces(e.probe, at, test_pattern(2 * kPart, 3), payload_limit(ctx)),
                  "writing the test data");
  // Without NO_HOLE the server may punch a hole (S-TX-053); with it, it
  // writes zeroes: the read must show zeroes either way.
  require_success(round_trip(e.probe, NBD_CMD_WRITE_ZEROES, 0, at, kPart), "NBD_CMD_WRITE_ZEROES");
  const TransmissionReply no_hole =
      round_trip(e.probe, NBD_CMD_WRITE_ZEROES, NBD_CMD_FLAG_NO_HOLE, at + kPart, kPart);
  if (no_hole.error() == NBD_EINVAL) {
    return ctx.fail("NBD_CMD_WRITE_ZEROES with NO_HOLE was refused: " + describe_chunks(no_hole),
                    "a server advertising NBD_FLAG_SEND_WRITE_ZEROES accepts "
                    "NBD_CMD_FLAG_NO_HOLE [S-TX-027]");
  }
  require_success(no_hole, "NBD_CMD_WRITE_ZEROES with NO_HOLE");
  const JudgedRead r = judged_read(e.probe, 0, at, 2 * kPart);
  if (r.problem) return ctx.fail(*r.problem, kChunkRules);
  require_success(r.reply, "reading the zeroed range");
  if (!all_zero(read_content(r.request, r.reply))) {
    return ctx.fail("after NBD_CMD_WRITE_ZEROES the structured READ (" + describe_chunks(r.reply) +
                        ") returned nonzero bytes",
                    "a zeroed range reads as zeroes, as OFFSET_HOLE chunks or zero data "
                    "[S-TX-051, S-SR-045]");
  }
  return ctx.pass(describe_chunks(r.reply));
}

// S-SR-040 (proto.md "NBD_CMD_READ": chunk boundaries on 512 bytes).
Outcome read_chunks_aligned(CheckContext& ctx) {
  OpenExport e = open_structured(ctx);
  const std::uint64_t at = prepare_mixed_region(ctx, e, 4);
  const JudgedRead r = judged_read(e.probe, 0, at, 3 * kPart);
  if (r.problem) return ctx.fail(*r.problem, kChunkRules);
  require_success(r.reply, "the READ");
  for (const ReplyChunk& chunk : r.reply.chunks) {
    if (chunk.header.type != NBD_REPLY_TYPE_OFFSET_DATA &&
        chunk.header.type != NBD_REPLY_TYPE_OFFSET_HOLE) {
      continue;
    }
    const std::uint64_t offset = load_be64(chunk.payload.data());
    const std::uint64_t length = chunk.header.type == NBD_REPLY_TYPE_OFFSET_DATA
                                     ? chunk.payload.size() - 8
                                     : load_be32(chunk.payload.data() + 8);
    if (offset % 512 != 0 || length % 512 != 0) {
      return ctx.fail("a 512-aligned READ was answered with chunks " + describe_chunks(r.reply),
                      "READ chunk offsets and lengths are multiples of 512 where possible "
                      "[S-SR-040]");
    }
  }
  return ctx.pass();
}

// S-SR-004, S-SR-027, S-SR-028, S-SR-030, S-SR-031, S-SR-032, S-SR-051 (proto.md
// "Structured reply chunk message", "Structured reply types").
Outcome read_error_structured(CheckContext& ctx) {
  OpenExport e = open_structured(ctx);
  const std::uint64_t at = e.size >= 512 ? e.size - 512 : 0;
  const JudgedRead r = judged_read(e.probe, 0, at, kTestBlock);
  const std::string required =
      "with structured replies, a failed READ gets a structured reply whose error chunk is well "
      "formed and after any content chunk at its offset [S-SR-004, S-SR-027, S-SR-028, S-SR-030, "
      "S-SR-031, S-SR-032, S-SR-051]";
  if (r.problem) return ctx.fail(*r.problem, required);
  if (r.reply.error() == 0) {
    return ctx.not_applicable("the server served a READ past the end: " + describe_chunks(r.reply));
  }
  return ctx.pass(describe_chunks(r.reply));
}

// Requests each server refuses: a read past the end, a write past the end
// or to a read-only export, and an unknown command.
struct Refusal {
  const char* what;
  std::uint16_t type;
  std::uint64_t offset;
  bool write;
};

// S-SR-005 (proto.md "Structured reply chunk message": errors preferably as
// error chunks).
Outcome errors_as_chunks(CheckContext& ctx) {
  OpenExport e = open_structured(ctx);
  const std::uint64_t near_end = e.size >= 512 ? e.size - 512 : 0;
  const auto data = test_pattern(kTestBlock, 5);
  const Refusal refusals[] = {
      {"NBD_CMD_WRITE past the end", NBD_CMD_WRITE, near_end, true},
      {"NBD_CMD_TRIM past the end", NBD_CMD_TRIM, near_end, false},
      {"an unknown command", 0x4e42, 0, false},
  };
  std::string seen;
  for (const Refusal& refusal : refusals) {
    if (refusal.type == NBD_CMD_TRIM && !(e.flags & NBD_FLAG_SEND_TRIM)) continue;
    TransmissionReply reply;
    try {
      reply = refusal.write ? write_data(e.probe, refusal.offset, data)
                            : round_trip(e.probe, refusal.type, 0, refusal.offset, kTestBlock);
    } catch (const ProbeError& err) {
      if (err.kind() != ProbeError::Kind::Closed) throw;
      break;
    }
    if (reply.error() == 0) continue;
    if (reply.is_simple()) {
      return ctx.fail(std::string(refusal.what) + " was refused with a " + reply.describe(),
                      "with structured replies, errors are sent as error chunks, which can "
                      "carry a message [S-SR-005]");
    }
    seen += (seen.empty() ? "" : "; ") + std::string(refusal.what) + ": " + describe_chunks(reply);
  }
  if (seen.empty()) return ctx.not_applicable("the server refused none of the requests");
  return ctx.pass(seen);
}

// S-SR-003, S-SR-026, S-SR-036, S-SR-007, S-SR-016 (proto.md "Structured
// reply chunk message", "Structured reply types").
Outcome every_command_answered(CheckContext& ctx) {
  OpenExport e = open_structured(ctx);
  const bool writable = !(e.flags & NBD_FLAG_READ_ONLY);
  const std::uint64_t at = writable ? ctx.scratch_offset(e.size) : 0;
  struct Command {
    std::uint16_t type;
    std::uint16_t needs_flag;
    bool writes;
  };
  const Command commands[] = {
      {NBD_CMD_READ, 0, false},
      {NBD_CMD_WRITE, 0, true},
      {NBD_CMD_FLUSH, NBD_FLAG_SEND_FLUSH, false},
      {NBD_CMD_TRIM, NBD_FLAG_SEND_TRIM, true},
      {NBD_CMD_WRITE_ZEROES, NBD_FLAG_SEND_WRITE_ZEROES, true},
      {NBD_CMD_CACHE, NBD_FLAG_SEND_CACHE, false},
  };
  const auto data = test_pattern(kTestBlock, 6);
  std::string tried;
  for (const Command& c : commands) {
    if ((c.needs_flag && !(e.flags & c.needs_flag)) || (c.writes && !writable)) continue;
    const bool flush = c.type == NBD_CMD_FLUSH;
    const RequestHeader request =
        e.probe.send_request(c.type, 0, flush ? 0 : at, flush ? 0 : kTestBlock,
                             c.type == NBD_CMD_WRITE ? std::span<const std::uint8_t>(data)
                                                     : std::span<const std::uint8_t>());
    const TransmissionReply reply = e.probe.read_reply(request);
    if (auto problem = reply_rule_problem(request, reply, e.probe)) {
      return ctx.fail(*problem,
                      "with structured replies every command gets a valid reply: content chunks "
                      "only for READ, error offsets only where allowed, DONE on the last chunk "
                      "only [S-SR-003, S-SR-026, S-SR-036, S-SR-007, S-SR-016]");
    }
    tried += (tried.empty() ? "" : ", ") + describe_command(c.type) + " (" +
             (reply.is_simple() ? std::string("simple reply") : describe_chunks(reply)) + ")";
  }
  return ctx.pass(tried);
}

// S-SR-052, S-SR-053, S-SR-056 (proto.md "NBD_CMD_READ",
// "Command flags": NBD_CMD_FLAG_DF).
Outcome df_single_chunk(CheckContext& ctx) {
  OpenExport e = open_structured(ctx);
  require_flag(e, NBD_FLAG_SEND_DF, "NBD_FLAG_SEND_DF");
  const std::uint64_t at = prepare_mixed_region(ctx, e, 7);
  // 64 KiB straddling data and zeroes: never fragmented, never EOVERFLOW.
  // A read-only export is read wherever the check finds it.
  const JudgedRead r = judged_read(e.probe, NBD_CMD_FLAG_DF, at + kPart / 2, kPart);
  const std::string required =
      "a READ with NBD_CMD_FLAG_DF of at most 64 KiB is answered with one content chunk (for "
      "data mixed with a hole, OFFSET_DATA with the zeroes written out), never NBD_EOVERFLOW "
      "[S-SR-052, S-SR-053, S-SR-056]";
  if (r.problem) return ctx.fail(*r.problem, required);
  if (r.reply.error() != 0) {
    return ctx.fail("a 64 KiB READ with DF failed: " + describe_chunks(r.reply), required);
  }
  std::size_t content = 0;
  for (const ReplyChunk& chunk : r.reply.chunks) {
    content += chunk.header.type == NBD_REPLY_TYPE_OFFSET_DATA ||
               chunk.header.type == NBD_REPLY_TYPE_OFFSET_HOLE;
  }
  if (content != 1) {
    return ctx.fail("the READ with DF was answered with " + describe_chunks(r.reply), required);
  }
  // The range is half data, half zeroes on a writable export: one chunk
  // covering it all carries the data, and so must be OFFSET_DATA.
  if (!(e.flags & NBD_FLAG_READ_ONLY)) {
    const auto data = read_content(r.request, r.reply);
    const auto written = test_pattern(kPart, 7);
    if (!std::equal(data.begin(), data.begin() + kPart / 2, written.begin() + kPart / 2) ||
        !all_zero(std::span(data).subspan(kPart / 2))) {
      return ctx.fail("the READ with DF of data then zeroes was answered with " +
                          describe_chunks(r.reply) + ", which is not the data written",
                      required);
    }
  }
  return ctx.pass(describe_chunks(r.reply));
}

// S-SR-029, S-SR-050, S-SR-034 (proto.md "Structured reply types",
// "NBD_CMD_READ": one generic error, not mixed with offset errors, no
// offset reported twice).
Outcome error_chunks_distinct(CheckContext& ctx) {
  OpenExport e = open_structured(ctx);
  const std::uint64_t at = e.size >= 512 ? e.size - 512 : 0;
  const JudgedRead r = judged_read(e.probe, 0, at, kTestBlock);
  if (r.problem) return ctx.fail(*r.problem, kChunkRules);
  if (r.reply.error() == 0) {
    return ctx.not_applicable("the server served a READ past the end: " + describe_chunks(r.reply));
  }
  std::size_t generic = 0;
  std::vector<std::uint64_t> offsets;
  for (const ReplyChunk& chunk : r.reply.chunks) {
    if (chunk.header.type == NBD_REPLY_TYPE_ERROR) ++generic;
    if (chunk.header.type == NBD_REPLY_TYPE_ERROR_OFFSET && chunk.payload.size() >= 8) {
      offsets.push_back(load_be64(chunk.payload.data() + chunk.payload.size() - 8));
    }
  }
  std::sort(offsets.begin(), offsets.end());
  const bool repeated = std::adjacent_find(offsets.begin(), offsets.end()) != offsets.end();
  if (generic > 1 || (generic == 1 && !offsets.empty()) || repeated) {
    return ctx.fail("a READ past the end was refused with " + describe_chunks(r.reply),
                    "a reply has at most one NBD_REPLY_TYPE_ERROR, does not mix it with "
                    "NBD_REPLY_TYPE_ERROR_OFFSET, and reports no offset twice [S-SR-029, "
                    "S-SR-050, S-SR-034]");
  }
  return ctx.pass(describe_chunks(r.reply));
}

// S-SR-055 (proto.md "NBD_CMD_READ": a DF read refused as too long carries
// no content). The read is as long as the export allows, up to 32 MiB.
Outcome df_overflow_no_content(CheckContext& ctx) {
  OpenExport e = open_structured(ctx);
  require_flag(e, NBD_FLAG_SEND_DF, "NBD_FLAG_SEND_DF");
  const std::uint64_t length = std::min<std::uint64_t>(e.size, std::uint64_t{32} << 20);
  const JudgedRead r = judged_read(e.probe, NBD_CMD_FLAG_DF, 0, length);
  if (r.problem) return ctx.fail(*r.problem, kChunkRules);
  if (r.reply.error() != NBD_EOVERFLOW) {
    return ctx.not_applicable("a " + std::to_string(length) +
                              "-byte READ with DF was not refused "
                              "with NBD_EOVERFLOW: " +
                              (r.reply.error() ? describe_chunks(r.reply) : std::string("served")));
  }
  for (const ReplyChunk& chunk : r.reply.chunks) {
    if (chunk.header.type == NBD_REPLY_TYPE_OFFSET_DATA ||
        chunk.header.type == NBD_REPLY_TYPE_OFFSET_HOLE) {
      return ctx.fail("a READ with DF refused with NBD_EOVERFLOW got " + describe_chunks(r.reply),
                      "a DF read refused with NBD_EOVERFLOW carries no content chunk [S-SR-055]");
    }
  }
  return ctx.pass(describe_chunks(r.reply));
}

}  // namespace

void add_structured_reply_checks(Catalogue& c) {
  const std::string area = "structured-replies";
  c.add({"sr.read-chunk-rules",
         area,
         {"S-SR-011", "S-SR-037", "S-SR-014", "S-SR-015", "S-SR-016", "S-SR-018", "S-SR-019",
          "S-SR-020", "S-SR-021", "S-SR-022", "S-SR-024", "S-SR-025", "S-SR-039", "S-SR-045"},
         Level::Must,
         "a structured READ of data and zeroes follows the chunk rules and carries the data",
         &read_chunk_rules});
  c.add({"sr.holes-read-as-zero",
         area,
         {"S-TX-051", "S-SR-045"},
         Level::Must,
         "after NBD_CMD_WRITE_ZEROES (with and without NO_HOLE) a structured READ gives zeroes",
         &holes_read_as_zero});
  c.add({"sr.read-chunks-aligned",
         area,
         {"S-SR-040"},
         Level::Should,
         "chunks of a 512-aligned READ start and end on multiples of 512",
         &read_chunks_aligned});
  c.add({"sr.read-error-structured",
         area,
         {"S-SR-004", "S-SR-027", "S-SR-028", "S-SR-030", "S-SR-031", "S-SR-032", "S-SR-051"},
         Level::MustNot,
         "a READ past the end gets a structured reply with a well-formed error chunk",
         &read_error_structured});
  c.add({"sr.errors-as-chunks",
         area,
         {"S-SR-005"},
         Level::Should,
         "with structured replies, refused requests get error chunks, not simple errors",
         &errors_as_chunks});
  c.add({"sr.every-command-answered",
         area,
         {"S-SR-003", "S-SR-026", "S-SR-036", "S-SR-007", "S-SR-016"},
         Level::Must,
         "every advertised command gets a valid simple or structured reply",
         &every_command_answered});
  c.add({"sr.df-single-chunk",
         area,
         {"S-SR-052", "S-SR-053", "S-SR-056"},
         Level::Must,
         "a 64 KiB READ with NBD_CMD_FLAG_DF gets exactly one content chunk",
         &df_single_chunk});
  c.add({"sr.df-overflow-no-content",
         area,
         {"S-SR-055"},
         Level::MustNot,
         "a READ with DF refused with NBD_EOVERFLOW carries no content chunk",
         &df_overflow_no_content});
  c.add({"sr.error-chunks-distinct",
         area,
         {"S-SR-029", "S-SR-050", "S-SR-034"},
         Level::ShouldNot,
         "a refused READ has one generic error chunk, or offset errors each named once",
         &error_chunks_distinct});
}

}  // namespace nbdref::conform
