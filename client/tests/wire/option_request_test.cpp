// Golden bytes from proto.md "Newstyle negotiation" and "Option types".
#include "wire/option_request.hpp"

#include <gtest/gtest.h>

#include "support/hex.hpp"
#include "wire/constants.hpp"

namespace nbdref::wire {
namespace {

using test::bytes_of;
using test::concat;
using test::hex;

TEST(OptionRequest, HeaderAndDataGoldenBytes) {
  std::vector<std::uint8_t> out;
  Writer w(out);
  encode_option_request(NBD_OPT_EXPORT_NAME, as_bytes("disk"), w);
  EXPECT_EQ(out, concat({hex("49484156 454f5054 00000001 00000004"), bytes_of("disk")}));

  auto h = decode_option_request_header(std::span(out).first(16));
  ASSERT_TRUE(h);
  EXPECT_EQ(h->option, NBD_OPT_EXPORT_NAME);
  EXPECT_EQ(h->length, 4u);
}

TEST(OptionRequest, EmptyDataOptions) {
  const std::pair<std::uint32_t, const char*> cases[] = {
      {NBD_OPT_ABORT, "00000002"},
      {NBD_OPT_LIST, "00000003"},
      {NBD_OPT_STARTTLS, "00000005"},
      {NBD_OPT_STRUCTURED_REPLY, "00000008"},
      {NBD_OPT_EXTENDED_HEADERS, "0000000b"},
  };
  for (const auto& [opt, code] : cases) {
    std::vector<std::uint8_t> out;
    Writer w(out);
    encode_option_request(opt, {}, w);
    EXPECT_EQ(out, concat({hex("49484156 454f5054"), hex(code), hex("00000000")}))
        << describe_option(opt);
  }
}

TEST(OptionRequest, BadMagicIsNamed) {
  auto h = decode_option_request_header(hex("49484156 454f5055 00000001 00000000"));
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().field, "option request magic");
}

TEST(InfoRequest, GoldenBytesWithInformationRequests) {
  const auto golden = concat({hex("00000003"), bytes_of("abc"), hex("0002 0003 0001")});
  std::vector<std::uint8_t> out;
  Writer w(out);
  encode_info_request({"abc", {NBD_INFO_BLOCK_SIZE, NBD_INFO_NAME}}, w);
  EXPECT_EQ(out, golden);

  auto r = decode_info_request(golden);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->export_name, "abc");
  EXPECT_EQ(r->info_types, (std::vector<std::uint16_t>{3, 1}));
}

TEST(InfoRequest, EmptyNameAndEmptyList) {
  const auto golden = hex("00000000 0000");
  std::vector<std::uint8_t> out;
  Writer w(out);
  encode_info_request({"", {}}, w);
  EXPECT_EQ(out, golden);
  auto r = decode_info_request(golden);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->export_name.empty());
  EXPECT_TRUE(r->info_types.empty());
}

// C-OPT-010 (proto.md "NBD_OPT_INFO / NBD_OPT_GO"): name length <= length - 6.
TEST(InfoRequest, NameLengthBeyondTheOptionIsRejected) {
  auto r = decode_info_request(concat({hex("00000004"), bytes_of("abc"), hex("0000")}));
  ASSERT_FALSE(r);
  EXPECT_STREQ(r.error().clause, "C-OPT-010");
}

TEST(InfoRequest, CountNotMatchingTheDataIsRejected) {
  auto r = decode_info_request(hex("00000000 0002 0001"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "INFO/GO information request count");
}

TEST(MetaContextRequest, GoldenBytes) {
  const auto golden = concat({hex("00000001"), bytes_of("e"), hex("00000002"), hex("0000000f"),
                              bytes_of("base:allocation"), hex("00000005"), bytes_of("qemu:")});
  std::vector<std::uint8_t> out;
  Writer w(out);
  encode_meta_context_request({"e", {"base:allocation", "qemu:"}}, w);
  EXPECT_EQ(out, golden);

  auto r = decode_meta_context_request(golden);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->export_name, "e");
  ASSERT_EQ(r->queries.size(), 2u);
  EXPECT_EQ(r->queries[0], "base:allocation");
  EXPECT_EQ(r->queries[1], "qemu:");
}

TEST(MetaContextRequest, ZeroQueries) {
  auto r = decode_meta_context_request(hex("00000000 00000000"));
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->queries.empty());
}

// S-BS-020 (proto.md "NBD_OPT_LIST_META_CONTEXT"): lengths past the option end.
TEST(MetaContextRequest, HugeQueryCountDoesNotAllocate) {
  auto r = decode_meta_context_request(hex("00000000 ffffffff 00000001 61"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "meta context query count");
}

TEST(MetaContextRequest, QueryRunningPastTheOptionIsRejected) {
  auto r = decode_meta_context_request(hex("00000000 00000001 00000009 6261"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "meta context query");
}

TEST(MetaContextRequest, NulInQueryIsRejected) {
  auto r = decode_meta_context_request(hex("00000000 00000001 00000003 610062"));
  ASSERT_FALSE(r);
  EXPECT_STREQ(r.error().clause, "C-GEN-001");
}

}  // namespace
}  // namespace nbdref::wire
