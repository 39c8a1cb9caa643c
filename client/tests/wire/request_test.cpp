// Golden bytes from proto.md "Request message" and proto-extended-headers.md.
#include "wire/request.hpp"

#include <array>

#include <gtest/gtest.h>

#include "support/hex.hpp"
#include "wire/constants.hpp"

namespace nbdref::wire {
namespace {

using test::hex;

const RequestHeader kWrite{NBD_CMD_FLAG_FUA, NBD_CMD_WRITE, 0x0102030405060708ULL, 0x10000, 512};

TEST(Request, CompactGoldenBytes) {
  std::array<std::uint8_t, COMPACT_REQUEST_SIZE> out{};
  encode_compact_request(kWrite, out.data());
  const auto golden = hex("25609513 0001 0001 01020304 05060708 00000000 00010000 00000200");
  EXPECT_EQ(std::vector(out.begin(), out.end()), golden);

  auto h = decode_compact_request(golden);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->flags, NBD_CMD_FLAG_FUA);
  EXPECT_EQ(h->type, NBD_CMD_WRITE);
  EXPECT_EQ(h->cookie, 0x0102030405060708ULL);
  EXPECT_EQ(h->offset, 0x10000u);
  EXPECT_EQ(h->length, 512u);
}

TEST(Request, ExtendedGoldenBytes) {
  RequestHeader trim{0, NBD_CMD_TRIM, 9, 0, 0x100000000ULL};
  std::array<std::uint8_t, EXTENDED_REQUEST_SIZE> out{};
  encode_extended_request(trim, out.data());
  const auto golden =
      hex("21e41c71 0000 0004 00000000 00000009 00000000 00000000 00000001 00000000");
  EXPECT_EQ(std::vector(out.begin(), out.end()), golden);

  auto h = decode_extended_request(golden);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->length, 0x100000000ULL);
  EXPECT_EQ(h->type, NBD_CMD_TRIM);
}

TEST(Request, DisconnectHasZeroOffsetAndLength) {
  // C-TX-024 (proto.md "NBD_CMD_DISC"): offset and length are zero.
  std::array<std::uint8_t, COMPACT_REQUEST_SIZE> out{};
  encode_compact_request({0, NBD_CMD_DISC, 3, 0, 0}, out.data());
  EXPECT_EQ(std::vector(out.begin(), out.end()),
            hex("25609513 0000 0002 00000000 00000003 00000000 00000000 00000000"));
}

TEST(Request, WrongMagicOrSizeIsRejected) {
  EXPECT_EQ(
      decode_compact_request(hex("25609514 0000 0000 00000000 00000000 00000000 00000000 00000000"))
          .error()
          .field,
      "request magic");
  EXPECT_FALSE(decode_compact_request(hex("25609513 0000")));
  EXPECT_STREQ(decode_extended_request(
                   hex("25609513 0000 0000 00000000 00000000 00000000 00000000 00000000 00000000"))
                   .error()
                   .clause,
               "X-C-002");
}

TEST(BlockStatusPayload, GoldenBytes) {
  const auto golden = hex("00000000 00100000 00000001 00000002");
  std::vector<std::uint8_t> out;
  Writer w(out);
  encode_block_status_payload({1 << 20, {1, 2}}, w);
  EXPECT_EQ(out, golden);
  auto p = decode_block_status_payload(golden);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->effect_length, 1u << 20);
  EXPECT_EQ(p->context_ids, (std::vector<std::uint32_t>{1, 2}));
}

// X-C-018 (proto-extended-headers.md "NBD_CMD_BLOCK_STATUS"): 8 + 4n bytes.
TEST(BlockStatusPayload, BadLengthIsRejected) {
  EXPECT_STREQ(decode_block_status_payload(hex("00000000 00100000 0001")).error().clause,
               "X-C-018");
  EXPECT_FALSE(decode_block_status_payload(hex("00000000")));
}

}  // namespace
}  // namespace nbdref::wire
