// Golden bytes from proto.md "Simple reply message", "Structured reply chunk
// message" and proto-extended-headers.md "Extended reply chunk message".
#include "wire/reply.hpp"

#include <gtest/gtest.h>

#include "support/hex.hpp"
#include "wire/constants.hpp"

namespace nbdref::wire {
namespace {

using test::hex;

TEST(Reply, MagicClassification) {
  EXPECT_EQ(*classify_reply_magic(0x67446698), ReplyKind::Simple);
  EXPECT_EQ(*classify_reply_magic(0x668e33ef), ReplyKind::Structured);
  EXPECT_EQ(*classify_reply_magic(0x6e8a278c), ReplyKind::Extended);
  auto bad = classify_reply_magic(0x96744668);  // the historic reply magic
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().field, "reply magic");
  EXPECT_EQ(reply_header_size(ReplyKind::Simple), 16u);
  EXPECT_EQ(reply_header_size(ReplyKind::Structured), 20u);
  EXPECT_EQ(reply_header_size(ReplyKind::Extended), 32u);
}

TEST(SimpleReply, GoldenBytes) {
  const auto golden = hex("67446698 00000016 00000000 0000002a");
  std::vector<std::uint8_t> out;
  Writer w(out);
  encode_simple_reply({NBD_EINVAL, 42}, w);
  EXPECT_EQ(out, golden);
  auto r = decode_simple_reply(golden);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->error, NBD_EINVAL);
  EXPECT_EQ(r->cookie, 42u);
  EXPECT_FALSE(decode_simple_reply(hex("67446698 00000000 00000000")));
}

TEST(StructuredReplyHeader, GoldenBytes) {
  const auto golden = hex("668e33ef 0001 0001 00000000 00000005 00001008");
  std::vector<std::uint8_t> out;
  Writer w(out);
  encode_structured_reply_header({NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_OFFSET_DATA, 5, 0, 0x1008},
                                 w);
  EXPECT_EQ(out, golden);
  auto h = decode_structured_reply_header(golden);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->flags, NBD_REPLY_FLAG_DONE);
  EXPECT_EQ(h->type, NBD_REPLY_TYPE_OFFSET_DATA);
  EXPECT_EQ(h->cookie, 5u);
  EXPECT_EQ(h->length, 0x1008u);
}

TEST(ExtendedReplyHeader, GoldenBytes) {
  const auto golden =
      hex("6e8a278c 0001 0006 00000000 00000007 00000000 00200000 00000000 00000018");
  std::vector<std::uint8_t> out;
  Writer w(out);
  encode_extended_reply_header(
      {NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_BLOCK_STATUS_EXT, 7, 0x200000, 24}, w);
  EXPECT_EQ(out, golden);
  auto h = decode_extended_reply_header(golden);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->type, NBD_REPLY_TYPE_BLOCK_STATUS_EXT);
  EXPECT_EQ(h->offset, 0x200000u);
  EXPECT_EQ(h->length, 24u);
}

TEST(ReplyHeaders, WrongMagicIsRejected) {
  EXPECT_FALSE(
      decode_structured_reply_header(hex("668e33ee 0001 0001 00000000 00000005 00000000")));
  EXPECT_STREQ(decode_extended_reply_header(
                   hex("668e33ef 0001 0006 00000000 00000007 00000000 00200000 00000000 00000018"))
                   .error()
                   .clause,
               "X-S-005");
}

}  // namespace
}  // namespace nbdref::wire
