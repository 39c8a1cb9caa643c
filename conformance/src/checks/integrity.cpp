// Checks of data integrity (proto.md "Ordering of messages and writes",
// "NBD_CMD_WRITE", "NBD_CMD_FLUSH", "NBD_FLAG_CAN_MULTI_CONN"): many writes
// and reads in flight at once, each answered once with its own cookie and
// the data read back as written; write, flush and FUA then read on one
// connection; and, with NBD_FLAG_CAN_MULTI_CONN, data flushed on one
// connection read on another. Each check writes only its own region.
#include <map>

#include "checks/areas.hpp"
#include "checks/transmission_support.hpp"
#include "probe/probe_error.hpp"
#include "wire/constants.hpp"

namespace nbdref::conform {
namespace {

using namespace wire;

// Requests in flight at once: the region cut into this many pieces.
constexpr std::size_t kInFlight = 64;
constexpr std::uint64_t kPiece = CheckContext::kScratchRegionSize / kInFlight;

const char* const kPipelineRequirement =
    "with many requests in flight each gets exactly one reply carrying its cookie, and data "
    "written is read back once the write's reply came [S-TX-002, S-TX-037]";

// Every reply to the requests in flight, in the order they completed. All
// are read before any is judged: nbdkit 1.32 aborts when a client leaves
// while it is still sending replies.
std::vector<Probe::Answer> all_replies(Probe& probe) {
  std::vector<Probe::Answer> answers;
  while (probe.in_flight() > 0) answers.push_back(probe.read_next_reply());
  return answers;
}

// Writes kInFlight pieces of the region without waiting, then reads them
// back the same way.
Outcome pipelined(CheckContext& ctx, bool structured) {
  ExportSetup setup;
  setup.structured_replies = structured;
  OpenExport e = ctx.open_export(setup);
  require_writable(e);
  const std::uint64_t at = ctx.scratch_offset(e.size);
  std::map<std::uint64_t, std::size_t> piece_of;  // cookie -> piece
  for (std::size_t i = 0; i < kInFlight; ++i) {
    const auto data = test_pattern(kPiece, 100 + i);
    piece_of[e.probe.send_request(NBD_CMD_WRITE, 0, at + i * kPiece, kPiece, data).cookie] = i;
  }
  for (const Probe::Answer& a : all_replies(e.probe)) {
    if (auto problem = reply_rule_problem(a.request, a.reply, e.probe)) {
      return ctx.fail(*problem, kPipelineRequirement);
    }
    require_success(a.reply,
                    "the NBD_CMD_WRITE of piece " + std::to_string(piece_of[a.request.cookie]));
  }
  for (std::size_t i = 0; i < kInFlight; ++i) {
    piece_of[e.probe.send_request(NBD_CMD_READ, 0, at + i * kPiece, kPiece).cookie] = i;
  }
  std::size_t out_of_order = 0;
  std::size_t expected_next = 0;
  for (const Probe::Answer& a : all_replies(e.probe)) {
    const std::size_t piece = piece_of[a.request.cookie];
    out_of_order += piece != expected_next;
    expected_next = piece + 1;
    if (auto problem = reply_rule_problem(a.request, a.reply, e.probe)) {
      return ctx.fail(*problem, kPipelineRequirement);
    }
    require_success(a.reply, "the NBD_CMD_READ of piece " + std::to_string(piece));
    if (read_content(a.request, a.reply) != test_pattern(kPiece, 100 + piece)) {
      return ctx.fail("piece " + std::to_string(piece) + " of " + std::to_string(kInFlight) +
                          " written with requests in flight reads back other data",
                      kPipelineRequirement);
    }
  }
  return ctx.pass(
      std::to_string(kInFlight) + " writes and reads in flight" +
      (out_of_order ? ", " + std::to_string(out_of_order) + " replies out of order" : ""));
}

// S-TX-002, S-TX-037 (proto.md "Transmission", "NBD_CMD_WRITE").
Outcome pipelined_simple(CheckContext& ctx) {
  return pipelined(ctx, false);
}

// S-TX-002, S-TX-037, S-SR-007 (and every chunk rule) with structured
// replies.
Outcome pipelined_structured(CheckContext& ctx) {
  return pipelined(ctx, true);
}

// S-TX-037, S-TX-014 (proto.md "NBD_CMD_WRITE", "NBD_CMD_FLUSH", "Command
// flags": a write followed by FLUSH, and a FUA write, then read back).
Outcome flush_and_fua_then_read(CheckContext& ctx) {
  OpenExport e = ctx.open_export();
  require_writable(e);
  require_flag(e, NBD_FLAG_SEND_FLUSH, "NBD_FLAG_SEND_FLUSH");
  const std::uint64_t at = ctx.scratch_offset(e.size);
  const std::string required =
      "FLUSH after a write succeeds and a later READ returns the data; so does a FUA write "
      "[S-TX-037, S-TX-014]";
  const auto first = test_pattern(kTestBlock, 41);
  // The FLUSH is sent before the write's reply arrives: it must still not
  // fail, and the data is there for the read once both replies came.
  const RequestHeader w = e.probe.send_request(NBD_CMD_WRITE, 0, at, first.size(), first);
  const RequestHeader f = e.probe.send_request(NBD_CMD_FLUSH, 0, 0, 0);
  const TransmissionReply write_reply = e.probe.read_reply(w);
  const TransmissionReply flush_reply = e.probe.read_reply(f);
  require_success(write_reply, "the NBD_CMD_WRITE");
  if (flush_reply.error() != 0) {
    return ctx.fail("NBD_CMD_FLUSH got a " + flush_reply.describe(), required);
  }
  const TransmissionReply r1 = round_trip(e.probe, NBD_CMD_READ, 0, at, kTestBlock);
  require_success(r1, "reading the data back");
  if (r1.data != first) return ctx.fail("the READ after WRITE and FLUSH got other data", required);
  if (e.flags & NBD_FLAG_SEND_FUA) {
    const auto second = test_pattern(kTestBlock, 42);
    const TransmissionReply fua = write_data(e.probe, at, second, NBD_CMD_FLAG_FUA);
    if (fua.error() != 0) {
      return ctx.fail("NBD_CMD_WRITE with FUA got a " + fua.describe(), required);
    }
    const TransmissionReply r2 = round_trip(e.probe, NBD_CMD_READ, 0, at, kTestBlock);
    require_success(r2, "reading the FUA write back");
    if (r2.data != second) return ctx.fail("the READ after a FUA write got other data", required);
  }
  return ctx.pass();
}

// S-TX-046 (proto.md "NBD_CMD_CACHE": no semantic effect). Data written,
// cached, then overwritten reads as the last write, with CACHE requests
// in flight beside the writes too.
Outcome cache_no_effect(CheckContext& ctx) {
  OpenExport e = ctx.open_export();
  require_writable(e);
  require_flag(e, NBD_FLAG_SEND_CACHE, "NBD_FLAG_SEND_CACHE");
  const std::uint64_t at = ctx.scratch_offset(e.size);
  const std::string required =
      "NBD_CMD_CACHE has no semantic effect: data read after it is the data last written "
      "[S-TX-046]";
  const auto first = test_pattern(kTestBlock, 61);
  const auto second = test_pattern(kTestBlock, 62);
  require_success(write_data(e.probe, at, first), "the first NBD_CMD_WRITE");
  const TransmissionReply cache = round_trip(e.probe, NBD_CMD_CACHE, 0, at, kTestBlock);
  const TransmissionReply r1 = round_trip(e.probe, NBD_CMD_READ, 0, at, kTestBlock);
  require_success(r1, "the READ after NBD_CMD_CACHE");
  if (r1.data != first) {
    return ctx.fail("after NBD_CMD_CACHE (" + cache.describe() + ") a READ got other data",
                    required);
  }
  require_success(write_data(e.probe, at, second), "the second NBD_CMD_WRITE");
  round_trip(e.probe, NBD_CMD_CACHE, 0, at, kTestBlock);
  const TransmissionReply r2 = round_trip(e.probe, NBD_CMD_READ, 0, at, kTestBlock);
  require_success(r2, "the READ after the second NBD_CMD_CACHE");
  if (r2.data != second) {
    return ctx.fail("a write after NBD_CMD_CACHE is not seen by a later READ", required);
  }
  return ctx.pass("NBD_CMD_CACHE got a " + cache.describe());
}

// S-TX-021 (proto.md "Transmission flags": NBD_FLAG_CAN_MULTI_CONN).
Outcome multi_conn_consistent(CheckContext& ctx) {
  if (!ctx.target().persistent()) {
    return ctx.not_applicable("each connection starts its own server: connections share no data");
  }
  OpenExport reader = ctx.open_export();
  require_flag(reader, NBD_FLAG_CAN_MULTI_CONN, "NBD_FLAG_CAN_MULTI_CONN");
  OpenExport writer = ctx.open_export();
  require_writable(writer);
  require_flag(writer, NBD_FLAG_CAN_MULTI_CONN, "NBD_FLAG_CAN_MULTI_CONN on the second connection");
  const std::uint64_t at = ctx.scratch_offset(writer.size);
  const std::string required =
      "with NBD_FLAG_CAN_MULTI_CONN, data made durable by FLUSH or FUA on one connection is seen "
      "by reads on every other connection once the reply is sent [S-TX-021]";
  // The reader looks at the region first, so that a cache per connection
  // would hold the old data.
  require_success(round_trip(reader.probe, NBD_CMD_READ, 0, at, kTestBlock), "the first read");
  const auto first = test_pattern(kTestBlock, 51);
  require_success(write_data(writer.probe, at, first), "the NBD_CMD_WRITE");
  if (writer.flags & NBD_FLAG_SEND_FLUSH) {
    require_success(round_trip(writer.probe, NBD_CMD_FLUSH, 0, 0, 0), "the NBD_CMD_FLUSH");
    const TransmissionReply r = round_trip(reader.probe, NBD_CMD_READ, 0, at, kTestBlock);
    require_success(r, "the read on the other connection");
    if (r.data != first) {
      return ctx.fail("after WRITE and FLUSH on one connection, a READ on another got other data",
                      required);
    }
  }
  if (writer.flags & NBD_FLAG_SEND_FUA) {
    const auto second = test_pattern(kTestBlock, 52);
    require_success(write_data(writer.probe, at, second, NBD_CMD_FLAG_FUA),
                    "the NBD_CMD_WRITE with FUA");
    const TransmissionReply r = round_trip(reader.probe, NBD_CMD_READ, 0, at, kTestBlock);
    require_success(r, "the read on the other connection");
    if (r.data != second) {
      return ctx.fail("after a FUA WRITE on one connection, a READ on another got other data",
                      required);
    }
  }
  if (!(writer.flags & (NBD_FLAG_SEND_FLUSH | NBD_FLAG_SEND_FUA))) {
    return ctx.not_applicable("the export offers neither FLUSH nor FUA");
  }
  return ctx.pass();
}

}  // namespace

void add_integrity_checks(Catalogue& c) {
  const std::string area = "integrity";
  c.add({"int.pipelined-simple",
         area,
         {"S-TX-002", "S-TX-037"},
         Level::Must,
         "64 writes then 64 reads in flight at once: one reply each, data read back as written",
         &pipelined_simple});
  c.add({"int.pipelined-structured",
         area,
         {"S-TX-002", "S-TX-037", "S-SR-007"},
         Level::Must,
         "the same with structured replies, every chunk following the chunk rules",
         &pipelined_structured});
  c.add({"int.flush-and-fua-then-read",
         area,
         {"S-TX-037", "S-TX-014"},
         Level::Must,
         "WRITE then FLUSH, and a FUA WRITE, succeed and are read back on the same connection",
         &flush_and_fua_then_read});
  c.add({"int.cache-no-effect",
         area,
         {"S-TX-046"},
         Level::MustNot,
         "NBD_CMD_CACHE changes nothing a later READ sees",
         &cache_no_effect});
  c.add({"int.multi-conn-consistent",
         area,
         {"S-TX-021"},
         Level::Must,
         "with NBD_FLAG_CAN_MULTI_CONN, data flushed on one connection is read on another",
         &multi_conn_consistent});
}

}  // namespace nbdref::conform
