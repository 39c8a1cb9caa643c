// The psktool file format: "username:hexkey" lines (psktool(1)).
#include "tls/psk_file.hpp"

#include <gtest/gtest.h>

#include <cerrno>

namespace nbdref::tls {
namespace {

using Key = std::vector<std::uint8_t>;

TEST(PskFile, FindsTheUsersKey) {
  const auto key = find_psk_key("bob:00ff\nalice:0a0B1c\n", "alice", "keys.psk");
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_EQ(*key, (Key{0x0a, 0x0b, 0x1c}));
}

TEST(PskFile, ANameIsMatchedWholeNotAsAPrefix) {
  const auto key = find_psk_key("alice2:01\nalice:02\n", "alice", "keys.psk");
  ASSERT_TRUE(key);
  EXPECT_EQ(*key, Key{0x02});
  const auto none = find_psk_key("alice:02\n", "ali", "keys.psk");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().errnum, ENOENT);
}

TEST(PskFile, CarriageReturnsAndALastLineWithoutNewlineAreFine) {
  const auto key = find_psk_key("bob:01\r\nalice:abcd", "alice", "keys.psk");
  ASSERT_TRUE(key);
  EXPECT_EQ(*key, (Key{0xab, 0xcd}));
}

TEST(PskFile, AMissingUserIsEnoentNamingUserAndFile) {
  const auto key = find_psk_key("bob:01\n", "alice", "the TLS PSK file /k.psk");
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().errnum, ENOENT);
  EXPECT_NE(key.error().message.find("'alice'"), std::string::npos) << key.error().message;
  EXPECT_NE(key.error().message.find("/k.psk"), std::string::npos) << key.error().message;
}

TEST(PskFile, BadKeysAreEinvalNamingTheLine) {
  for (const char* text : {"alice:\n", "alice:abc\n", "alice:zz\n"}) {
    const auto key = find_psk_key(std::string("bob:01\n") + text, "alice", "keys.psk");
    ASSERT_FALSE(key) << text;
    EXPECT_EQ(key.error().errnum, EINVAL) << text;
    EXPECT_NE(key.error().message.find("keys.psk line 2"), std::string::npos)
        << key.error().message;
  }
  const auto huge =
      find_psk_key("alice:" + std::string(2 * (MAX_PSK_KEY_BYTES + 1), 'a'), "alice", "keys.psk");
  ASSERT_FALSE(huge);
  EXPECT_EQ(huge.error().errnum, EINVAL);
}

TEST(PskFile, AnEmptyUsernameIsEinval) {
  const auto key = find_psk_key(":01\n", "", "keys.psk");
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().errnum, EINVAL);
}

TEST(PskFile, AnUnreadableFileGivesItsErrno) {
  const auto key = read_psk_key("/nonexistent/nbdref.psk", "alice");
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().errnum, ENOENT);
  EXPECT_NE(key.error().message.find("/nonexistent/nbdref.psk"), std::string::npos);
}

}  // namespace
}  // namespace nbdref::tls
