#include "wire/reader.hpp"

#include <gtest/gtest.h>

#include "support/hex.hpp"

namespace nbdref::wire {
namespace {

using test::hex;

TEST(Reader, ReadsBigEndianFieldsInOrder) {
  const auto b = hex("01 0203 04050607 08090a0b0c0d0e0f ffee");
  Reader r(b);
  EXPECT_EQ(r.u8("a"), 0x01);
  EXPECT_EQ(r.be16("b"), 0x0203);
  EXPECT_EQ(r.be32("c"), 0x04050607u);
  EXPECT_EQ(r.be64("d"), 0x08090a0b0c0d0e0fULL);
  const auto rest = r.take(2, "e");
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[0], 0xff);
  EXPECT_FALSE(r.finish("message").has_value());
}

TEST(Reader, ShortReadNamesTheFieldAndStaysFailed) {
  const auto b = hex("0102 03");
  Reader r(b);
  EXPECT_EQ(r.be16("first"), 0x0102);
  EXPECT_EQ(r.be32("option length"), 0u);
  EXPECT_FALSE(r.ok());
  // Later reads neither succeed nor replace the first error.
  EXPECT_EQ(r.u8("later"), 0);
  const auto err = r.finish("message");
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->field, "option length");
  EXPECT_EQ(err->value, 4u);
  EXPECT_NE(err->to_string().find("only 1 remain"), std::string::npos);
}

TEST(Reader, TakeNeverReadsPastTheSpan) {
  const auto b = hex("00112233");
  Reader r(b);
  EXPECT_TRUE(r.take(5, "blob").empty());
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.remaining(), 4u);
}

TEST(Reader, HugeLengthFromPeerIsAnErrorNotAnAllocation) {
  const auto b = hex("00112233");
  Reader r(b);
  EXPECT_TRUE(r.take(std::size_t{1} << 40, "name").empty());
  EXPECT_EQ(r.error()->field, "name");
}

TEST(Reader, TrailingBytesAreAnError) {
  const auto b = hex("0001 ff");
  Reader r(b);
  r.be16("x");
  const auto err = r.finish("handshake flags");
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->field, "handshake flags");
  EXPECT_EQ(err->value, 1u);
}

TEST(Reader, FailKeepsTheFirstError) {
  const auto b = hex("00");
  Reader r(b);
  r.fail(DecodeError{"a", 1, "first", "S-GEN-001"});
  r.fail(DecodeError{"b", 2, "second", nullptr});
  EXPECT_EQ(r.error()->field, "a");
}

TEST(DecodeError, ToStringNamesFieldValueAndClause) {
  DecodeError e{"option reply magic", 0x1234567u, "expected 0x3e889045565a9", "S-OPT-020"};
  EXPECT_EQ(e.to_string(), "option reply magic 0x1234567: expected 0x3e889045565a9 [S-OPT-020]");
  DecodeError small{"NBD_INFO_EXPORT length", 11u, "must be exactly 12", "S-OPT-023"};
  EXPECT_EQ(small.to_string(), "NBD_INFO_EXPORT length 11: must be exactly 12 [S-OPT-023]");
}

TEST(ExpectSize, AcceptsOnlyTheExactSize) {
  const auto b = hex("000102");
  EXPECT_FALSE(expect_size(b, 3, "m").has_value());
  const auto e = expect_size(b, 4, "simple reply");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->field, "simple reply size");
  EXPECT_EQ(e->value, 3u);
}

}  // namespace
}  // namespace nbdref::wire
