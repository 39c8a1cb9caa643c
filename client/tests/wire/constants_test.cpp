#include "wire/constants.hpp"

#include <gtest/gtest.h>

namespace nbdref::wire {
namespace {

// Values straight from proto.md "Values" and proto-extended-headers.md.
TEST(Constants, MatchTheSpec) {
  EXPECT_EQ(NBD_OPT_EXPORT_NAME, 1u);
  EXPECT_EQ(NBD_OPT_GO, 7u);
  EXPECT_EQ(NBD_OPT_EXTENDED_HEADERS, 11u);
  EXPECT_EQ(NBD_REP_ERR_UNSUP, 0x80000001u);
  EXPECT_EQ(NBD_REP_ERR_EXT_HEADER_REQD, 0x8000000au);
  EXPECT_EQ(NBD_INFO_BLOCK_SIZE, 3);
  EXPECT_EQ(NBD_CMD_BLOCK_STATUS, 7);
  EXPECT_EQ(NBD_CMD_FLAG_PAYLOAD_LEN, 1 << 5);
  EXPECT_EQ(NBD_FLAG_SEND_FAST_ZERO, 1 << 11);
  EXPECT_EQ(NBD_FLAG_BLOCK_STATUS_PAYLOAD, 1 << 12);
  EXPECT_EQ(NBD_REPLY_TYPE_BLOCK_STATUS_EXT, 6);
  EXPECT_EQ(NBD_REPLY_TYPE_ERROR_OFFSET, 0x8002);
  EXPECT_EQ(NBD_ESHUTDOWN, 108u);
}

TEST(Constants, NamesComeFromTheSameTable) {
  EXPECT_STREQ(option_name(NBD_OPT_STRUCTURED_REPLY), "NBD_OPT_STRUCTURED_REPLY");
  EXPECT_STREQ(option_reply_name(NBD_REP_ERR_TLS_REQD), "NBD_REP_ERR_TLS_REQD");
  EXPECT_STREQ(info_name(NBD_INFO_DESCRIPTION), "NBD_INFO_DESCRIPTION");
  EXPECT_STREQ(command_name(NBD_CMD_WRITE_ZEROES), "NBD_CMD_WRITE_ZEROES");
  EXPECT_STREQ(reply_type_name(NBD_REPLY_TYPE_OFFSET_HOLE), "NBD_REPLY_TYPE_OFFSET_HOLE");
  EXPECT_STREQ(error_name(NBD_EOVERFLOW), "NBD_EOVERFLOW");
  EXPECT_EQ(option_name(99), nullptr);
}

TEST(Constants, DescriptionsNameUnknownValues) {
  EXPECT_EQ(describe_option(NBD_OPT_GO), "NBD_OPT_GO (7)");
  EXPECT_EQ(describe_option(42), "unknown option 42");
  EXPECT_EQ(describe_reply_type(0x8003), "unknown reply chunk type 32771");
  EXPECT_EQ(describe_command(NBD_CMD_CACHE), "NBD_CMD_CACHE (5)");
}

TEST(Constants, FlagSetsListEveryBitAndTheUnknownRest) {
  EXPECT_EQ(describe_transmission_flags(0), "0");
  EXPECT_EQ(describe_transmission_flags(NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH | 0x8000),
            "NBD_FLAG_HAS_FLAGS|NBD_FLAG_SEND_FLUSH|0x8000");
  EXPECT_EQ(describe_handshake_flags(3), "NBD_FLAG_FIXED_NEWSTYLE|NBD_FLAG_NO_ZEROES");
  EXPECT_EQ(describe_client_flags(1), "NBD_FLAG_C_FIXED_NEWSTYLE");
  EXPECT_EQ(describe_command_flags(NBD_CMD_FLAG_FUA | NBD_CMD_FLAG_REQ_ONE),
            "NBD_CMD_FLAG_FUA|NBD_CMD_FLAG_REQ_ONE");
}

TEST(Constants, ErrorBits) {
  EXPECT_TRUE(is_error_reply(NBD_REP_ERR_POLICY));
  EXPECT_FALSE(is_error_reply(NBD_REP_META_CONTEXT));
  EXPECT_TRUE(is_error_chunk(NBD_REPLY_TYPE_ERROR));
  EXPECT_TRUE(is_error_chunk(0x8123));
  EXPECT_FALSE(is_error_chunk(NBD_REPLY_TYPE_BLOCK_STATUS));
}

}  // namespace
}  // namespace nbdref::wire
