// The C++ API: RAII, spans, exceptions carrying errno, observers.
#include <algorithm>
#include <cerrno>

#include <gtest/gtest.h>
#include <nbdref/client.hpp>

namespace nbdref::test {
namespace {

Client connected(const char* size = "4M") {
  Client c;
  c.add_meta_context("base:allocation");
  c.connect_command({"nbdkit", "-s", "--exit-with-parent", "memory", size});
  return c;
}

std::vector<std::byte> bytes(std::size_t n, int seed) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = std::byte(static_cast<unsigned char>(seed + i));
  return v;
}

TEST(CxxClient, WritesReadsAndReportsTheExport) {
  Client c = connected();
  EXPECT_EQ(c.state(), "ready");
  EXPECT_EQ(c.size(), 4u << 20);
  EXPECT_FALSE(c.is_read_only());
  EXPECT_TRUE(c.can_flush());
  EXPECT_TRUE(c.structured_replies_negotiated());
  EXPECT_EQ(c.protocol(), "newstyle-fixed");
  const auto data = bytes(8192, 3);
  c.pwrite(data, 4096, command_flag::fua);
  std::vector<std::byte> back(8192);
  c.pread(back, 4096);
  EXPECT_EQ(back, data);
  c.flush();
  c.zero(4096, 4096);
  c.pread(back, 4096);
  EXPECT_TRUE(std::all_of(back.begin(), back.begin() + 4096,
                          [](std::byte b) { return b == std::byte{0}; }));
  c.shutdown();
  EXPECT_EQ(c.state(), "closed");
}

TEST(CxxClient, FailuresThrowWithErrno) {
  Client c = connected("1M");
  std::vector<std::byte> buf(512);
  try {
    c.pread(buf, 1 << 20);
    FAIL() << "read past the end succeeded";
  } catch (const ClientError& e) {
    EXPECT_EQ(e.errnum(), EINVAL);
    EXPECT_NE(std::string(e.what()).find("beyond the export size"), std::string::npos) << e.what();
  }
  Client fresh;
  try {
    (void)fresh.size();
    FAIL() << "size of an unconnected client";
  } catch (const ClientError& e) {
    EXPECT_EQ(e.errnum(), ENOTCONN);
  }
}

TEST(CxxClient, BlockStatusGivesAbsoluteOffsets) {
  Client c = connected();
  c.pwrite(bytes(65536, 1), 0);
  std::vector<Extent> seen;
  c.block_status(1 << 20, 0, [&](std::string_view context, std::span<const Extent> extents) {
    EXPECT_EQ(context, "base:allocation");
    seen.insert(seen.end(), extents.begin(), extents.end());
    return 0;
  });
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.front().offset, 0u);
  for (std::size_t i = 1; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].offset, seen[i - 1].offset + seen[i - 1].length);
  }
  EXPECT_EQ(seen.front().flags & 1, 0u);  // written data is not a hole
}

TEST(CxxClient, ChunkObserverCanFailTheRead) {
  Client c = connected();
  std::vector<std::byte> buf(4096);
  int calls = 0;
  EXPECT_THROW(c.pread(buf, 0,
                       [&](std::span<const std::byte>, std::uint64_t, ReadChunkKind) {
                         ++calls;
                         return EBADMSG;
                       }),
               ClientError);
  EXPECT_GE(calls, 1);
}

TEST(CxxClient, MovesKeepTheConnection) {
  Client a = connected();
  Client b = std::move(a);
  EXPECT_EQ(b.size(), 4u << 20);
  Client c;
  c = std::move(b);
  EXPECT_EQ(c.state(), "ready");
}

}  // namespace
}  // namespace nbdref::test
