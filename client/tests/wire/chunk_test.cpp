// Golden bytes from proto.md "Structured reply types" and
// proto-extended-headers.md (NBD_REPLY_TYPE_BLOCK_STATUS_EXT).
#include "wire/chunk.hpp"

#include <gtest/gtest.h>

#include "support/hex.hpp"
#include "wire/constants.hpp"

namespace nbdref::wire {
namespace {

using test::bytes_of;
using test::concat;
using test::hex;

TEST(NoneChunk, LengthMustBeZero) {
  EXPECT_FALSE(check_none_chunk(0));
  EXPECT_STREQ(check_none_chunk(1)->clause, "S-SR-018");
}

TEST(OffsetData, GoldenBytes) {
  const auto golden = concat({hex("00000000 00000200"), bytes_of("abc")});
  std::vector<std::uint8_t> out;
  Writer w(out);
  encode_offset_data({512, as_bytes("abc")}, w);
  EXPECT_EQ(out, golden);
  auto d = decode_offset_data(golden);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->offset, 512u);
  EXPECT_EQ(as_string_view(d->data), "abc");
}

// S-SR-020 (proto.md "NBD_REPLY_TYPE_OFFSET_DATA"): length >= 9.
TEST(OffsetData, NeedsAtLeastOneDataByte) {
  EXPECT_STREQ(decode_offset_data(hex("00000000 00000200")).error().clause, "S-SR-020");
  EXPECT_TRUE(check_offset_data_length(8).has_value());
  EXPECT_FALSE(check_offset_data_length(9).has_value());
}

TEST(OffsetHole, GoldenBytes) {
  const auto golden = hex("00000000 00001000 00010000");
  std::vector<std::uint8_t> out;
  Writer w(out);
  encode_offset_hole({4096, 65536}, w);
  EXPECT_EQ(out, golden);
  auto h = decode_offset_hole(golden);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->offset, 4096u);
  EXPECT_EQ(h->length, 65536u);
}

TEST(OffsetHole, LayoutRules) {
  EXPECT_STREQ(decode_offset_hole(hex("00000000 00001000 0001")).error().clause, "S-SR-024");
  EXPECT_STREQ(decode_offset_hole(hex("00000000 00001000 00000000")).error().clause, "S-SR-025");
}

TEST(BlockStatus, GoldenBytes) {
  const auto golden = hex("00000001 00001000 00000003 00002000 00000000");
  const BlockDescriptor d[] = {{4096, 3}, {8192, 0}};
  std::vector<std::uint8_t> out;
  Writer w(out);
  encode_block_status(1, d, w);
  EXPECT_EQ(out, golden);

  auto v = decode_block_status(golden);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->context_id(), 1u);
  EXPECT_FALSE(v->wide());
  ASSERT_EQ(v->size(), 2u);
  EXPECT_EQ((*v)[0].length, 4096u);
  EXPECT_EQ((*v)[0].status, 3u);
  EXPECT_EQ((*v)[1].length, 8192u);
}

TEST(BlockStatus, LayoutRules) {
  // S-BS-041: 4 + 8n with n >= 1.
  EXPECT_STREQ(decode_block_status(hex("00000001")).error().clause, "S-BS-041");
  EXPECT_STREQ(decode_block_status(hex("00000001 00001000 0000")).error().clause, "S-BS-041");
  // S-BS-042: each extent nonzero.
  auto zero = decode_block_status(hex("00000001 00001000 00000000 00000000 00000001"));
  ASSERT_FALSE(zero);
  EXPECT_STREQ(zero.error().clause, "S-BS-042");
  EXPECT_EQ(zero.error().value, 1u);  // the index of the bad descriptor
}

TEST(BlockStatusExt, GoldenBytes) {
  const auto golden = hex("00000002 00000001 00000001 00000000 00000000 00000001");
  const BlockDescriptor d[] = {{1ULL << 32, 1}};
  std::vector<std::uint8_t> out;
  Writer w(out);
  encode_block_status_ext(2, d, w);
  EXPECT_EQ(out, golden);

  auto v = decode_block_status_ext(golden);
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->wide());
  EXPECT_EQ(v->context_id(), 2u);
  ASSERT_EQ(v->size(), 1u);
  EXPECT_EQ((*v)[0].length, 1ULL << 32);
  EXPECT_EQ((*v)[0].status, 1u);
}

TEST(BlockStatusExt, LayoutRules) {
  EXPECT_STREQ(decode_block_status_ext(hex("00000002 00000000")).error().clause, "X-S-034");
  EXPECT_STREQ(decode_block_status_ext(hex("00000002 00000002 00000000 00001000 00000000 00000000"))
                   .error()
                   .clause,
               "X-S-035");
  EXPECT_STREQ(decode_block_status_ext(hex("00000002 00000001 00000000 00000000 00000000 00000000"))
                   .error()
                   .clause,
               "X-S-036");
}

TEST(ErrorChunk, ErrorGoldenBytes) {
  const auto golden = concat({hex("00000005 0004"), bytes_of("oops")});
  std::vector<std::uint8_t> out;
  Writer w(out);
  encode_error_chunk({NBD_EIO, "oops", std::nullopt}, w);
  EXPECT_EQ(out, golden);
  auto e = decode_error_chunk(NBD_REPLY_TYPE_ERROR, golden);
  ASSERT_TRUE(e) << e.error().to_string();
  EXPECT_EQ(e->error, NBD_EIO);
  EXPECT_EQ(e->message, "oops");
  EXPECT_FALSE(e->offset);
}

TEST(ErrorChunk, ErrorOffsetGoldenBytes) {
  const auto golden = concat({hex("00000016 0002"), bytes_of("no"), hex("00000000 00000400")});
  std::vector<std::uint8_t> out;
  Writer w(out);
  encode_error_chunk({NBD_EINVAL, "no", 1024}, w);
  EXPECT_EQ(out, golden);
  auto e = decode_error_chunk(NBD_REPLY_TYPE_ERROR_OFFSET, golden);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->offset, 1024u);
  EXPECT_EQ(e->message, "no");
}

TEST(ErrorChunk, LayoutRulesCiteTheirClauses) {
  // S-SR-027: ERROR is at least 6 bytes and the message fits.
  EXPECT_STREQ(decode_error_chunk(NBD_REPLY_TYPE_ERROR, hex("00000005 00")).error().clause,
               "S-SR-027");
  EXPECT_STREQ(decode_error_chunk(NBD_REPLY_TYPE_ERROR, hex("00000005 0005 6162")).error().clause,
               "S-SR-027");
  // ... and has no bytes after the message.
  EXPECT_STREQ(decode_error_chunk(NBD_REPLY_TYPE_ERROR, hex("00000005 0001 6162")).error().clause,
               "S-SR-027");
  // S-SR-031: ERROR_OFFSET is at least 14 bytes.
  EXPECT_STREQ(
      decode_error_chunk(NBD_REPLY_TYPE_ERROR_OFFSET, hex("00000005 0000 00000000")).error().clause,
      "S-SR-031");
  // S-SR-028: the error value is nonzero.
  EXPECT_STREQ(decode_error_chunk(NBD_REPLY_TYPE_ERROR, hex("00000000 0000")).error().clause,
               "S-SR-028");
}

// C-SR-009 (proto.md "Structured reply types"): unknown error types carry
// the error and message; extra fields after the message are allowed.
TEST(ErrorChunk, UnknownErrorTypeKeepsErrorAndMessage) {
  const auto payload = hex("0000001c 0001 78 deadbeef");
  auto e = decode_error_chunk(0x8005, payload);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->error, NBD_ENOSPC);
  EXPECT_EQ(e->message, "x");
  auto overflow = decode_error_chunk(0x8005, hex("0000001c 0009 78"));
  ASSERT_FALSE(overflow);
  EXPECT_STREQ(overflow.error().clause, "C-SR-009");
}

}  // namespace
}  // namespace nbdref::wire
