// Golden bytes from proto.md "Oldstyle negotiation", "Newstyle negotiation"
// and "Client flags".
#include "wire/handshake.hpp"

#include <gtest/gtest.h>

#include "support/hex.hpp"
#include "wire/constants.hpp"

namespace nbdref::wire {
namespace {

using test::concat;
using test::hex;

std::vector<std::uint8_t> zeroes(std::size_t n) {
  return std::vector<std::uint8_t>(n, 0);
}

const auto kNbdMagic = hex("4e42444d 41474943");  // "NBDMAGIC"
const auto kIHaveOpt = hex("49484156 454f5054");  // "IHAVEOPT"
const auto kCliserv = hex("00004202 81861253");

TEST(Greeting, NewstyleGoldenBytes) {
  std::vector<std::uint8_t> out;
  Writer w(out);
  encode_newstyle_greeting({NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES}, w);
  EXPECT_EQ(out, concat({kNbdMagic, kIHaveOpt, hex("0003")}));

  auto g = decode_newstyle_greeting(out);
  ASSERT_TRUE(g) << g.error().to_string();
  EXPECT_EQ(g->handshake_flags, 3);
}

TEST(Greeting, PrefixTellsTheStyle) {
  EXPECT_EQ(*decode_greeting_prefix(concat({kNbdMagic, kIHaveOpt})), GreetingStyle::Newstyle);
  EXPECT_EQ(*decode_greeting_prefix(concat({kNbdMagic, kCliserv})), GreetingStyle::Oldstyle);
}

TEST(Greeting, WrongFirstMagicIsNamed) {
  auto g = decode_greeting_prefix(concat({hex("4e42444d 41474945"), kIHaveOpt}));
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().field, "greeting magic");
  EXPECT_EQ(g.error().value, 0x4e42444d41474945ULL);
}

TEST(Greeting, WrongSecondMagicIsNamed) {
  auto g = decode_greeting_prefix(concat({kNbdMagic, hex("49484156 454f5055")}));
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().field, "greeting second magic");
}

TEST(Greeting, TruncatedPrefixIsRejected) {
  auto g = decode_greeting_prefix(kNbdMagic);
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().field, "greeting prefix size");
}

TEST(Greeting, OldstyleGoldenBytes) {
  const auto golden =
      concat({kNbdMagic, kCliserv, hex("00000000 00100000"), hex("00000003"), zeroes(124)});
  ASSERT_EQ(golden.size(), 152u);

  std::vector<std::uint8_t> out;
  Writer w(out);
  encode_oldstyle_greeting({1 << 20, NBD_FLAG_HAS_FLAGS | NBD_FLAG_READ_ONLY}, w);
  EXPECT_EQ(out, golden);

  auto g = decode_oldstyle_greeting(golden);
  ASSERT_TRUE(g) << g.error().to_string();
  EXPECT_EQ(g->export_size, 1u << 20);
  EXPECT_EQ(g->transmission_flags(), 3);
  EXPECT_EQ(g->handshake_flags(), 0);
}

TEST(Greeting, OldstyleRestAfterPrefix) {
  const auto rest = concat({hex("00000000 00000200 00010001"), zeroes(124)});
  auto g = decode_oldstyle_greeting_rest(rest);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->export_size, 512u);
  EXPECT_EQ(g->handshake_flags(), 1);
  EXPECT_EQ(g->transmission_flags(), 1);
  EXPECT_FALSE(decode_oldstyle_greeting_rest(std::span(rest).first(135)));
}

TEST(Greeting, OldstyleDecoderRejectsNewstyle) {
  EXPECT_FALSE(decode_oldstyle_greeting(concat({kNbdMagic, kIHaveOpt, zeroes(136)})));
  EXPECT_FALSE(decode_newstyle_greeting(concat({kNbdMagic, kCliserv, hex("0001")})));
}

TEST(ClientFlags, GoldenBytes) {
  std::vector<std::uint8_t> out;
  Writer w(out);
  encode_client_flags(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES, w);
  EXPECT_EQ(out, hex("00000003"));
  EXPECT_EQ(*decode_client_flags(out), 3u);
  EXPECT_FALSE(decode_client_flags(hex("000003")));
}

TEST(HandshakeFlags, TwoBytes) {
  EXPECT_EQ(*decode_handshake_flags(hex("8001")), 0x8001);
  EXPECT_FALSE(decode_handshake_flags(hex("01")));
}

TEST(ExportNameReply, WithZeroPadding) {
  const auto golden = concat({hex("00000000 40000000 014d"), zeroes(124)});
  std::vector<std::uint8_t> out;
  Writer w(out);
  encode_export_name_reply({1u << 30, 0x014d}, true, w);
  EXPECT_EQ(out, golden);
  auto r = decode_export_name_reply(golden);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->export_size, 1u << 30);
  EXPECT_EQ(r->transmission_flags, 0x014d);
}

TEST(ExportNameReply, WithoutZeroPadding) {
  std::vector<std::uint8_t> out;
  Writer w(out);
  encode_export_name_reply({4096, 1}, false, w);
  EXPECT_EQ(out, hex("00000000 00001000 0001"));
  EXPECT_EQ(decode_export_name_reply(out)->export_size, 4096u);
}

TEST(ExportNameReply, OtherSizesAreRejected) {
  auto r = decode_export_name_reply(hex("00000000 00001000 000100"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().value, 11u);
}

}  // namespace
}  // namespace nbdref::wire
