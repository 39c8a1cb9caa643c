// Golden bytes from proto.md "Fixed newstyle negotiation" and "Option reply types".
#include "wire/option_reply.hpp"

#include <gtest/gtest.h>

#include "support/hex.hpp"
#include "wire/constants.hpp"

namespace nbdref::wire {
namespace {

using test::bytes_of;
using test::concat;
using test::hex;

std::vector<std::uint8_t> encoded(const InfoReply& info) {
  std::vector<std::uint8_t> out;
  Writer w(out);
  encode_info_reply(info, w);
  return out;
}

TEST(OptionReplyHeader, GoldenBytes) {
  const auto golden = hex("0003e889 045565a9 00000007 00000003 0000000c");
  std::vector<std::uint8_t> out;
  Writer w(out);
  encode_option_reply_header({NBD_OPT_GO, NBD_REP_INFO, 12}, w);
  EXPECT_EQ(out, golden);

  auto h = decode_option_reply_header(golden);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->option, NBD_OPT_GO);
  EXPECT_EQ(h->reply_type, NBD_REP_INFO);
  EXPECT_EQ(h->length, 12u);
}

TEST(OptionReplyHeader, AckWithZeroLength) {
  std::vector<std::uint8_t> out;
  Writer w(out);
  encode_option_reply(NBD_OPT_STRUCTURED_REPLY, NBD_REP_ACK, {}, w);
  EXPECT_EQ(out, hex("0003e889 045565a9 00000008 00000001 00000000"));
}

TEST(OptionReplyHeader, ErrorReplyWithMessage) {
  std::vector<std::uint8_t> out;
  Writer w(out);
  encode_option_reply(NBD_OPT_GO, NBD_REP_ERR_UNKNOWN, as_bytes("no"), w);
  EXPECT_EQ(out, concat({hex("0003e889 045565a9 00000007 80000006 00000002"), bytes_of("no")}));
  EXPECT_EQ(*decode_error_reply_message(std::span(out).subspan(20)), "no");
}

// S-OPT-020 (proto.md "Option reply types"): every reply starts with the magic.
TEST(OptionReplyHeader, WrongMagicCitesTheClause) {
  auto h = decode_option_reply_header(hex("0003e889 045565aa 00000007 00000001 00000000"));
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().field, "option reply magic");
  EXPECT_STREQ(h.error().clause, "S-OPT-020");
}

TEST(ServerReply, GoldenBytes) {
  const auto golden = concat({hex("00000004"), bytes_of("disk"), bytes_of("main disk")});
  std::vector<std::uint8_t> out;
  Writer w(out);
  encode_server_reply({"disk", "main disk"}, w);
  EXPECT_EQ(out, golden);
  auto s = decode_server_reply(golden);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->name, "disk");
  EXPECT_EQ(s->description, "main disk");
}

// S-OPT-021 (proto.md "NBD_REP_SERVER"): name length <= reply length - 4.
TEST(ServerReply, NameLongerThanReplyIsRejected) {
  auto s = decode_server_reply(concat({hex("00000005"), bytes_of("disk")}));
  ASSERT_FALSE(s);
  EXPECT_STREQ(s.error().clause, "S-OPT-021");
  EXPECT_EQ(s.error().value, 5u);
}

TEST(ServerReply, TooShortForTheLength) {
  EXPECT_FALSE(decode_server_reply(hex("000000")));
}

TEST(InfoReply, ExportGoldenBytes) {
  const auto golden = hex("0000 00000000 00010000 0003");
  EXPECT_EQ(encoded(InfoExport{65536, 3}), golden);
  auto i = decode_info_reply(golden);
  ASSERT_TRUE(i);
  const auto& e = std::get<InfoExport>(*i);
  EXPECT_EQ(e.export_size, 65536u);
  EXPECT_EQ(e.transmission_flags, 3);
}

// S-OPT-023 (proto.md "NBD_INFO_EXPORT"): length exactly 12.
TEST(InfoReply, ExportWithWrongLengthIsRejected) {
  auto shorter = decode_info_reply(hex("0000 00000000 00010000 00"));
  ASSERT_FALSE(shorter);
  EXPECT_STREQ(shorter.error().clause, "S-OPT-023");
  auto longer = decode_info_reply(hex("0000 00000000 00010000 0003 00"));
  ASSERT_FALSE(longer);
  EXPECT_EQ(longer.error().value, 13u);
}

TEST(InfoReply, NameAndDescriptionGoldenBytes) {
  EXPECT_EQ(encoded(InfoName{"disk"}), concat({hex("0001"), bytes_of("disk")}));
  EXPECT_EQ(encoded(InfoDescription{"d"}), concat({hex("0002"), bytes_of("d")}));
  EXPECT_EQ(std::get<InfoName>(*decode_info_reply(hex("0001 6162"))).name, "ab");
  EXPECT_EQ(std::get<InfoDescription>(*decode_info_reply(hex("0002"))).description, "");
}

TEST(InfoReply, BlockSizeGoldenBytes) {
  const auto golden = hex("0003 00000001 00001000 02000000");
  EXPECT_EQ(encoded(InfoBlockSize{1, 4096, 1u << 25}), golden);
  auto i = decode_info_reply(golden);
  ASSERT_TRUE(i) << i.error().to_string();
  const auto& b = std::get<InfoBlockSize>(*i);
  EXPECT_EQ(b.minimum, 1u);
  EXPECT_EQ(b.preferred, 4096u);
  EXPECT_EQ(b.maximum, 1u << 25);
}

TEST(InfoReply, BlockSizeRulesCiteTheirClauses) {
  EXPECT_STREQ(decode_info_reply(hex("0003 00000003 00001000 02000000")).error().clause,
               "S-SZ-007");
  EXPECT_STREQ(decode_info_reply(hex("0003 00020000 00020000 02000000")).error().clause,
               "S-SZ-008");
  EXPECT_STREQ(decode_info_reply(hex("0003 00000200 00000300 02000000")).error().clause,
               "S-SZ-010");
  EXPECT_STREQ(decode_info_reply(hex("0003 00000001 00000100 02000000")).error().clause,
               "S-SZ-011");
  EXPECT_STREQ(decode_info_reply(hex("0003 00000200 00001000 00000800")).error().clause,
               "S-SZ-013");
  EXPECT_STREQ(decode_info_reply(hex("0003 00000200 00001000")).error().clause, "S-SZ-025");
  // 0xffffffff means "no fixed limit" (S-SZ-015) and is accepted.
  EXPECT_TRUE(decode_info_reply(hex("0003 00000200 00001000 ffffffff")));
}

TEST(InfoReply, UnknownTypeIsKeptForTheCallerToIgnore) {
  const auto payload = hex("0009 aabb");
  auto i = decode_info_reply(payload);
  ASSERT_TRUE(i);
  const auto& u = std::get<InfoUnknown>(*i);
  EXPECT_EQ(u.type, 9);
  EXPECT_EQ(u.data.size(), 2u);
  EXPECT_EQ(encoded(u), hex("0009 aabb"));
}

TEST(InfoReply, TooShortForTheType) {
  auto i = decode_info_reply(hex("00"));
  ASSERT_FALSE(i);
  EXPECT_EQ(i.error().field, "NBD_REP_INFO length");
}

TEST(InfoReply, StringsWithNulAreRejected) {
  auto i = decode_info_reply(hex("0001 610062"));
  ASSERT_FALSE(i);
  EXPECT_STREQ(i.error().clause, "S-GEN-001");
}

TEST(MetaContextReply, GoldenBytes) {
  const auto golden = concat({hex("00000007"), bytes_of("base:allocation")});
  std::vector<std::uint8_t> out;
  Writer w(out);
  encode_meta_context_reply({7, "base:allocation"}, w);
  EXPECT_EQ(out, golden);
  auto m = decode_meta_context_reply(golden);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->context_id, 7u);
  EXPECT_EQ(m->name, "base:allocation");
}

// S-BS-005 (proto.md "Metadata querying"): names are namespace:leaf.
TEST(MetaContextReply, NameWithoutNamespaceIsRejected) {
  EXPECT_STREQ(
      decode_meta_context_reply(concat({hex("00000001"), bytes_of("allocation")})).error().clause,
      "S-BS-005");
  EXPECT_STREQ(decode_meta_context_reply(concat({hex("00000001"), bytes_of(":x")})).error().clause,
               "S-BS-005");
  EXPECT_FALSE(decode_meta_context_reply(hex("000001")));
}

TEST(ErrorReplyMessage, LongerThan4096IsRejected) {
  const std::vector<std::uint8_t> message(4097, 'x');
  auto m = decode_error_reply_message(message);
  ASSERT_FALSE(m);
  EXPECT_STREQ(m.error().clause, "S-GEN-003");
  EXPECT_TRUE(decode_error_reply_message(std::span(message).first(4096)));
}

}  // namespace
}  // namespace nbdref::wire
