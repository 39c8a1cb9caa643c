// The rules every structured or extended reply obeys, as the checks judge
// them (checks/transmission_support.hpp): hand-made replies that keep them,
// and replies that each break one rule and must be named by its clause.
#include <gtest/gtest.h>

#include "checks/transmission_support.hpp"
#include "wire/chunk.hpp"
#include "wire/constants.hpp"
#include "wire/writer.hpp"

namespace nbdref::conform {
namespace {

using namespace wire;

constexpr std::uint64_t kCookie = 7;

RequestHeader request(std::uint16_t type, std::uint64_t offset, std::uint64_t length) {
  return RequestHeader{0, type, kCookie, offset, length};
}

ReplyChunk chunk(std::uint16_t type, std::vector<std::uint8_t> payload, bool done = false,
                 std::uint64_t offset = 0, ReplyKind kind = ReplyKind::Structured) {
  ReplyChunk c;
  c.kind = kind;
  c.header = ChunkHeader{static_cast<std::uint16_t>(done ? NBD_REPLY_FLAG_DONE : 0), type, kCookie,
                         offset, payload.size()};
  c.payload = std::move(payload);
  return c;
}

std::vector<std::uint8_t> data_payload(std::uint64_t offset, std::size_t length) {
  std::vector<std::uint8_t> out;
  Writer w(out);
  encode_offset_data({offset, std::vector<std::uint8_t>(length, 0xab)}, w);
  return out;
}

std::vector<std::uint8_t> hole_payload(std::uint64_t offset, std::uint32_t length) {
  std::vector<std::uint8_t> out;
  Writer w(out);
  encode_offset_hole({offset, length}, w);
  return out;
}

std::vector<std::uint8_t> error_payload(std::uint32_t error, std::optional<std::uint64_t> offset) {
  std::vector<std::uint8_t> out;
  Writer w(out);
  encode_error_chunk({error, "refused", offset}, w);
  return out;
}

TransmissionReply structured(std::vector<ReplyChunk> chunks) {
  TransmissionReply r;
  r.kind = chunks.front().kind;
  r.chunks = std::move(chunks);
  return r;
}

// The clause ids of a problem, "[S-SR-045]" at its end.
std::string clause_of(const std::optional<std::string>& problem) {
  if (!problem) return "none";
  const auto open = problem->rfind('[');
  return open == std::string::npos ? *problem : problem->substr(open);
}

TEST(ReplyRules, DataThenHoleCoveringTheReadPasses) {
  const auto reply = structured({chunk(NBD_REPLY_TYPE_OFFSET_DATA, data_payload(100, 50)),
                                 chunk(NBD_REPLY_TYPE_OFFSET_HOLE, hole_payload(150, 50), true)});
  EXPECT_EQ(clause_of(reply_rule_problem(request(NBD_CMD_READ, 100, 100), reply, true, false)),
            "none");
  const auto content = read_content(request(NBD_CMD_READ, 100, 100), reply);
  EXPECT_EQ(content[0], 0xab);
  EXPECT_EQ(content[99], 0);
}

TEST(ReplyRules, GapInASuccessfulReadBreaksS_SR_045) {
  const auto reply = structured({chunk(NBD_REPLY_TYPE_OFFSET_DATA, data_payload(100, 50)),
                                 chunk(NBD_REPLY_TYPE_NONE, {}, true)});
  EXPECT_EQ(clause_of(reply_rule_problem(request(NBD_CMD_READ, 100, 100), reply, true, false)),
            "[S-SR-045]");
}

TEST(ReplyRules, OverlappingContentBreaksS_SR_022) {
  const auto reply = structured({chunk(NBD_REPLY_TYPE_OFFSET_DATA, data_payload(0, 60)),
                                 chunk(NBD_REPLY_TYPE_OFFSET_HOLE, hole_payload(50, 50), true)});
  EXPECT_EQ(clause_of(reply_rule_problem(request(NBD_CMD_READ, 0, 100), reply, true, false)),
            "[S-SR-022]");
}

TEST(ReplyRules, ContentOutsideTheRequestBreaksS_SR_021) {
  const auto reply = structured({chunk(NBD_REPLY_TYPE_OFFSET_DATA, data_payload(0, 120), true)});
  EXPECT_EQ(clause_of(reply_rule_problem(request(NBD_CMD_READ, 0, 100), reply, true, false)),
            "[S-SR-021]");
}

TEST(ReplyRules, NoneWithoutDoneBreaksS_SR_015) {
  const auto reply = structured({chunk(NBD_REPLY_TYPE_NONE, {}),
                                 chunk(NBD_REPLY_TYPE_OFFSET_DATA, data_payload(0, 8), true)});
  EXPECT_EQ(clause_of(reply_rule_problem(request(NBD_CMD_READ, 0, 8), reply, true, false)),
            "[S-SR-015, S-SR-019]");
}

TEST(ReplyRules, UnknownReplyFlagBreaksS_SR_016) {
  auto reply = structured({chunk(NBD_REPLY_TYPE_NONE, {}, true)});
  reply.chunks[0].header.flags |= 0x4;
  EXPECT_EQ(clause_of(reply_rule_problem(request(NBD_CMD_FLUSH, 0, 0), reply, true, false)),
            "[S-SR-016]");
}

TEST(ReplyRules, SimpleReadReplyBreaksS_SR_004OnlyWithStructuredReplies) {
  TransmissionReply simple;
  simple.data.assign(8, 0);
  EXPECT_EQ(clause_of(reply_rule_problem(request(NBD_CMD_READ, 0, 8), simple, true, false)),
            "[S-SR-004]");
  EXPECT_EQ(clause_of(reply_rule_problem(request(NBD_CMD_READ, 0, 8), simple, false, false)),
            "none");
  EXPECT_EQ(clause_of(reply_rule_problem(request(NBD_CMD_FLUSH, 0, 0), simple, true, true)),
            "[X-S-004]");
}

TEST(ReplyRules, ContentChunkForAWriteBreaksS_SR_026) {
  const auto reply = structured({chunk(NBD_REPLY_TYPE_OFFSET_DATA, data_payload(0, 8), true)});
  EXPECT_EQ(clause_of(reply_rule_problem(request(NBD_CMD_WRITE, 0, 8), reply, true, false)),
            "[S-SR-026]");
}

TEST(ReplyRules, ErrorOffsetOutsideTheRequestBreaksS_SR_032) {
  const auto reply =
      structured({chunk(NBD_REPLY_TYPE_ERROR_OFFSET, error_payload(NBD_EIO, 500), true)});
  EXPECT_EQ(clause_of(reply_rule_problem(request(NBD_CMD_READ, 0, 100), reply, true, false)),
            "[S-SR-032]");
}

TEST(ReplyRules, ErrorOffsetForAFlushBreaksS_SR_036) {
  const auto reply =
      structured({chunk(NBD_REPLY_TYPE_ERROR_OFFSET, error_payload(NBD_EIO, 0), true)});
  EXPECT_EQ(clause_of(reply_rule_problem(request(NBD_CMD_FLUSH, 0, 0), reply, true, false)),
            "[S-SR-036]");
}

TEST(ReplyRules, ContentAfterAnErrorAtTheSameOffsetBreaksS_SR_051) {
  const auto reply = structured({chunk(NBD_REPLY_TYPE_ERROR_OFFSET, error_payload(NBD_EIO, 10)),
                                 chunk(NBD_REPLY_TYPE_OFFSET_DATA, data_payload(0, 100), true)});
  EXPECT_EQ(clause_of(reply_rule_problem(request(NBD_CMD_READ, 0, 100), reply, true, false)),
            "[S-SR-022, S-SR-051]");
}

TEST(ReplyRules, ExtendedChunkOffsetMustBeTheRequestsX_S_006) {
  const auto reply = structured(
      {chunk(NBD_REPLY_TYPE_OFFSET_DATA, data_payload(100, 8), true, 100, ReplyKind::Extended)});
  EXPECT_EQ(clause_of(reply_rule_problem(request(NBD_CMD_READ, 96, 12), reply, true, true)),
            "[X-S-006]");
}

TEST(ReplyRules, StructuredChunkUnderExtendedHeadersBreaksX_S_005) {
  const auto reply = structured({chunk(NBD_REPLY_TYPE_NONE, {}, true)});
  EXPECT_EQ(clause_of(reply_rule_problem(request(NBD_CMD_FLUSH, 0, 0), reply, true, true)),
            "[X-S-005, X-B-001]");
}

TEST(ReplyRules, WideStatusWithoutExtendedHeadersBreaksX_S_032) {
  std::vector<std::uint8_t> payload;
  Writer w(payload);
  const BlockDescriptor d[] = {{4096, 0}};
  encode_block_status_ext(1, d, w);
  const auto reply = structured({chunk(NBD_REPLY_TYPE_BLOCK_STATUS_EXT, payload, true)});
  EXPECT_EQ(
      clause_of(reply_rule_problem(request(NBD_CMD_BLOCK_STATUS, 0, 4096), reply, true, false)),
      "[X-S-032]");
}

TEST(ReplyRules, ZeroLengthExtentBreaksS_BS_042) {
  std::vector<std::uint8_t> payload;
  Writer w(payload);
  const BlockDescriptor d[] = {{0, 0}};
  encode_block_status(1, d, w);
  const auto reply = structured({chunk(NBD_REPLY_TYPE_BLOCK_STATUS, payload, true)});
  EXPECT_NE(reply_rule_problem(request(NBD_CMD_BLOCK_STATUS, 0, 4096), reply, true, false)
                ->find("S-BS-042"),
            std::string::npos);
}

}  // namespace
}  // namespace nbdref::conform
