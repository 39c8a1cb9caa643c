#include "transport/socket_directory.hpp"

#include <sys/stat.h>
#include <sys/un.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include "private_tmpdir.hpp"
#include "test_sockets.hpp"

namespace nbdref::transport {
namespace {

namespace fs = std::filesystem;

SocketDirectory create_or_fail() {
  auto directory = SocketDirectory::create();
  EXPECT_TRUE(directory) << directory.error().message;
  return std::move(*directory);
}

TEST(SocketDirectory, IsAPrivateDirectoryUnderTmpdir) {
  test::PrivateTmpdir tmpdir;
  SocketDirectory directory = create_or_fail();
  EXPECT_EQ(directory.path().rfind(tmpdir.path() + "/nbdref-", 0), 0u) << directory.path();
  EXPECT_EQ(directory.socket_path(), directory.path() + "/sock");
  struct stat info {};
  ASSERT_EQ(stat(directory.path().c_str(), &info), 0) << strerror(errno);
  EXPECT_TRUE(S_ISDIR(info.st_mode));
  EXPECT_EQ(info.st_mode & 0777, 0700u);
}

TEST(SocketDirectory, DestructionRemovesTheSocketAndTheDirectory) {
  test::PrivateTmpdir tmpdir;
  {
    SocketDirectory directory = create_or_fail();
    UniqueFd listener = test::listen_unix(directory.socket_path());
    ASSERT_TRUE(fs::exists(directory.socket_path()));
  }
  EXPECT_TRUE(tmpdir.empty());
}

TEST(SocketDirectory, DestructionWithoutASocketRemovesTheDirectory) {
  test::PrivateTmpdir tmpdir;
  { SocketDirectory directory = create_or_fail(); }
  EXPECT_TRUE(tmpdir.empty());
}

TEST(SocketDirectory, LeavesAloneFilesItDidNotMake) {
  test::PrivateTmpdir tmpdir;
  std::string stranger;
  {
    SocketDirectory directory = create_or_fail();
    stranger = directory.path() + "/stranger";
    std::ofstream(stranger) << "not ours";
  }
  EXPECT_TRUE(fs::exists(stranger));
}

TEST(SocketDirectory, MovingHandsOverTheRemoval) {
  test::PrivateTmpdir tmpdir;
  std::optional<SocketDirectory> first(create_or_fail());
  const std::string path = first->path();
  std::optional<SocketDirectory> second(std::move(*first));
  EXPECT_EQ(second->path(), path);
  first.reset();  // the moved-from object owns nothing
  EXPECT_TRUE(fs::exists(path));
  second.reset();
  EXPECT_FALSE(fs::exists(path));
}

TEST(SocketDirectory, MoveAssignmentRemovesTheDirectoryItReplaces) {
  test::PrivateTmpdir tmpdir;
  SocketDirectory kept = create_or_fail();
  SocketDirectory replaced = create_or_fail();
  const std::string kept_path = kept.path();
  const std::string replaced_path = replaced.path();
  replaced = std::move(kept);
  EXPECT_FALSE(fs::exists(replaced_path));
  EXPECT_EQ(replaced.path(), kept_path);
  EXPECT_TRUE(fs::exists(kept_path));
}

TEST(SocketDirectory, TooLongTmpdirFallsBackToTmp) {
  test::PrivateTmpdir tmpdir;
  // With "/nbdref-XXXXXX/sock" and the NUL, the socket path would exceed sun_path.
  const std::string long_folder = tmpdir.path() + "/" + std::string(100, 'x');
  setenv("TMPDIR", long_folder.c_str(), 1);
  SocketDirectory directory = create_or_fail();
  EXPECT_EQ(directory.path().rfind("/tmp/nbdref-", 0), 0u) << directory.path();
  EXPECT_LT(directory.socket_path().size(), sizeof(sockaddr_un::sun_path));
}

TEST(SocketDirectory, RelativeTmpdirFallsBackToTmp) {
  test::PrivateTmpdir tmpdir;
  setenv("TMPDIR", "relative", 1);
  SocketDirectory directory = create_or_fail();
  EXPECT_EQ(directory.path().rfind("/tmp/nbdref-", 0), 0u) << directory.path();
}

TEST(SocketDirectory, MissingTmpdirFailsWithEnoentNamingIt) {
  test::PrivateTmpdir tmpdir;
  const std::string missing = tmpdir.path() + "/missing";
  setenv("TMPDIR", missing.c_str(), 1);
  auto directory = SocketDirectory::create();
  ASSERT_FALSE(directory);
  EXPECT_EQ(directory.error().errnum, ENOENT);
  EXPECT_NE(directory.error().message.find(missing), std::string::npos)
      << directory.error().message;
}

}  // namespace
}  // namespace nbdref::transport
