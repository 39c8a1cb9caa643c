// The RAM disk: sparse pages, zeroes where nothing was written, trim and
// zeroing that release pages, allocation extents, and sharing across threads.
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "server/ram_disk.hpp"

namespace nbdref::mock {
namespace {

std::vector<std::uint8_t> filled(std::size_t n, std::uint8_t v) {
  return std::vector<std::uint8_t>(n, v);
}

std::vector<std::uint8_t> read(const RamDisk& d, std::uint64_t offset, std::size_t n) {
  std::vector<std::uint8_t> out(n, 0xee);
  d.read(offset, out);
  return out;
}

TEST(RamDisk, UnwrittenBytesReadAsZeroesWithoutAllocating) {
  RamDisk d(1 << 20);
  EXPECT_EQ(read(d, 12345, 10000), filled(10000, 0));
  EXPECT_EQ(d.allocated_pages(), 0u);
}

TEST(RamDisk, WriteAcrossPagesReadsBackAndAllocatesOnlyTouchedPages) {
  RamDisk d(1 << 20);
  const auto data = filled(5000, 0x5a);
  d.write(4000, data);  // pages 0, 1 and 2
  EXPECT_EQ(read(d, 4000, 5000), data);
  EXPECT_EQ(read(d, 0, 4000), filled(4000, 0));
  EXPECT_EQ(d.allocated_pages(), 3u);
}

TEST(RamDisk, TrimReleasesOnlyWholePages) {
  RamDisk d(64 * 1024);
  d.write(0, filled(16384, 1));
  d.trim(100, 8192);  // covers page 1 only completely
  EXPECT_EQ(d.allocated_pages(), 3u);
  EXPECT_EQ(read(d, 4096, 4096), filled(4096, 0));
  EXPECT_EQ(read(d, 100, 10), filled(10, 1));  // a trim may discard less
}

TEST(RamDisk, TrimToTheEndReleasesAPartialLastPage) {
  RamDisk d(10000);  // the third page is partial
  d.write(8192, filled(1808, 3));
  d.trim(8192, 1808);
  EXPECT_EQ(d.allocated_pages(), 0u);
}

TEST(RamDisk, ZeroReleasesWholePagesAndClearsPartialOnes) {
  RamDisk d(64 * 1024);
  d.write(0, filled(16384, 7));
  d.zero(2048, 8192, false);
  EXPECT_EQ(d.allocated_pages(), 3u);  // page 1 released, 0 and 2 cleared in part
  EXPECT_EQ(read(d, 2048, 8192), filled(8192, 0));
  EXPECT_EQ(read(d, 0, 2048), filled(2048, 7));
  EXPECT_EQ(read(d, 10240, 6144), filled(6144, 7));
}

TEST(RamDisk, ZeroKeepingAllocationAllocatesEveryTouchedPage) {
  RamDisk d(64 * 1024);
  d.zero(1000, 10000, true);
  EXPECT_EQ(d.allocated_pages(), 3u);
  EXPECT_EQ(read(d, 0, 16384), filled(16384, 0));
}

TEST(RamDisk, ExtentsMergeEqualNeighboursAndTellZeroPagesFromData) {
  RamDisk d(10 * 4096);
  d.write(4096, filled(8192, 9));      // pages 1-2: data
  d.zero(3 * 4096, 4096, true);        // page 3: allocated zeroes
  d.write(8 * 4096, filled(4096, 0));  // page 8: written zeroes
  const std::vector<DiskExtent> expected = {
      {4096, ExtentState::Hole},     {8192, ExtentState::Data}, {4096, ExtentState::Zero},
      {4 * 4096, ExtentState::Hole}, {4096, ExtentState::Zero}, {4096, ExtentState::Hole},
  };
  EXPECT_EQ(d.extents(0, 10 * 4096, 100), expected);
}

TEST(RamDisk, ExtentsJudgeOnlyTheQueriedPartOfAPage) {
  RamDisk d(8192);
  d.write(2048, filled(10, 4));
  const std::vector<DiskExtent> zero_part = {{1024, ExtentState::Zero}};
  EXPECT_EQ(d.extents(0, 1024, 10), zero_part);
  const std::vector<DiskExtent> data_part = {{3072, ExtentState::Data}, {1024, ExtentState::Hole}};
  EXPECT_EQ(d.extents(1024, 4096, 10), data_part);
}

TEST(RamDisk, ExtentsStopAtTheLimitCoveringAPrefix) {
  RamDisk d(16 * 4096);
  for (int page = 0; page < 16; page += 2) d.write(page * 4096, filled(4096, 1));
  const auto e = d.extents(0, 16 * 4096, 3);
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0].state, ExtentState::Data);
  EXPECT_EQ(e[1].state, ExtentState::Hole);
  EXPECT_EQ(e[2].state, ExtentState::Data);
}

TEST(RamDisk, ConcurrentWritersOnDisjointPagesAllLand) {
  RamDisk d(64 * 4096);
  std::vector<std::thread> writers;
  for (std::uint8_t t = 0; t < 4; ++t) {
    writers.emplace_back([&d, t] {
      for (int i = 0; i < 16; ++i) d.write((t * 16 + i) * 4096, filled(4096, t + 1));
    });
  }
  for (auto& w : writers) w.join();
  for (std::uint8_t t = 0; t < 4; ++t) {
    EXPECT_EQ(read(d, t * 16 * 4096, 16 * 4096), filled(16 * 4096, t + 1));
  }
}

}  // namespace
}  // namespace nbdref::mock
