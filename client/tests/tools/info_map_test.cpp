// --map: the whole export's extents from NBD_CMD_BLOCK_STATUS, merged where
// neighbours have equal flags.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/temp_dir.hpp"
#include "tools/info_run.hpp"

namespace nbdref::test {
namespace {

using ::testing::HasSubstr;

// The data plugin stores "1 @65536 2" (a byte at 0, a byte at 65536) in
// 32 KiB pages and reports every other page as a hole that reads as zero.
TEST(InfoMap, ShowsDataAndHolesOfAnExport) {
  const auto run =
      run_info(with_command({"--map"}, nbdkit_command({"data", "1 @65536 2", "size=1M"})));
  ASSERT_EQ(run.status, 0) << describe(run);
  EXPECT_EQ(run.output,
            "extents of export \"\" for base:allocation, 1048576 bytes (1 MiB):\n"
            " offset   length  flags  meaning\n"
            "      0    32768      0  data\n"
            "  32768    32768      3  hole,zero\n"
            "  65536    32768      0  data\n"
            "  98304   950272      3  hole,zero\n");
}

// Every answer covers one 4 KiB extent whatever was asked (S-BS-047): the
// tool asks again from where the answer stopped, 16 times for 64 KiB, and
// prints the equal extents as one.
TEST(InfoMap, AsksAgainWhereAShortAnswerStoppedAndMergesEqualExtents) {
  TempDir dir("nbdref-info-map");
  const std::string calls = dir.file("extents-calls");
  const auto run = run_info(with_command(
      {"--map"},
      nbdkit_command({"eval", "get_size=echo 65536", "pread=exit 1", "can_extents=exit 0",
                      "extents=echo $4 >> " + calls + "; echo $4 4096 hole,zero"})));
  ASSERT_EQ(run.status, 0) << describe(run);
  EXPECT_THAT(run.output, HasSubstr("\n     0   65536      3  hole,zero\n"));
  std::ifstream log(calls);
  std::stringstream offsets;
  offsets << log.rdbuf();
  std::string expected;
  for (int offset = 0; offset < 65536; offset += 4096) expected += std::to_string(offset) + "\n";
  EXPECT_EQ(offsets.str(), expected);
}

// 5 GiB needs several requests (each at most 2 GiB); the answers join into
// one extent.
TEST(InfoMap, WalksAnExportLargerThanOneRequest) {
  const auto run = run_info(with_command({"--map"}, nbdkit_command({"memory", "5G"})));
  ASSERT_EQ(run.status, 0) << describe(run);
  EXPECT_THAT(run.output, HasSubstr("\n         0  5368709120      3  hole,zero\n"));
}

TEST(InfoMap, FailsForAContextTheExportDoesNotOffer) {
  const auto run =
      run_info(with_command({"--map", "qemu:nonexistent"}, nbdkit_command({"memory", "1M"})));
  EXPECT_EQ(run.status, 1) << describe(run);
  EXPECT_THAT(run.output,
              HasSubstr("nbdref-info: opening export '': the server does not offer metadata "
                        "context qemu:nonexistent\n"));
}

}  // namespace
}  // namespace nbdref::test
