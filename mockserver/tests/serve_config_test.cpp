// What the server advertises for an export, and the configurations that
// would make it break the protocol (proto.md "Transmission flags", "Size
// constraints").
#include <gtest/gtest.h>

#include "server/serve_config.hpp"
#include "session_driver.hpp"
#include "wire/constants.hpp"

namespace nbdref::mock::test {
namespace {

using namespace wire;

// config_problem() must object to the default config after `change`,
// naming `mention`.
template <class Change>
void expect_problem(Change change, const char* mention) {
  auto config = default_config();
  change(config);
  const auto problem = config_problem(config);
  ASSERT_TRUE(problem) << "nothing found, expected " << mention;
  EXPECT_NE(problem->find(mention), std::string::npos) << *problem;
}

TEST(ExportConfig, DfIsAdvertisedOnlyWithChunkedReplies) {
  ExportConfig e;
  EXPECT_FALSE(e.transmission_flags(false) & NBD_FLAG_SEND_DF);  // S-TX-019
  EXPECT_TRUE(e.transmission_flags(true) & NBD_FLAG_SEND_DF);
  EXPECT_TRUE(e.transmission_flags(false) & NBD_FLAG_HAS_FLAGS);  // S-TX-015
}

TEST(ExportConfig, FastZeroNeedsWriteZeroes) {
  ExportConfig e;
  e.write_zeroes = false;
  const auto flags = e.transmission_flags(true);
  EXPECT_FALSE(flags & NBD_FLAG_SEND_FAST_ZERO);  // S-TX-023
  EXPECT_FALSE(flags & NBD_FLAG_SEND_WRITE_ZEROES);
}

TEST(ExportConfig, EveryConfiguredFeatureShowsInTheFlags) {
  ExportConfig e;
  e.read_only = true;
  e.rotational = true;
  EXPECT_EQ(e.transmission_flags(true),
            NBD_FLAG_HAS_FLAGS | NBD_FLAG_READ_ONLY | NBD_FLAG_SEND_FLUSH | NBD_FLAG_SEND_FUA |
                NBD_FLAG_ROTATIONAL | NBD_FLAG_SEND_TRIM | NBD_FLAG_SEND_WRITE_ZEROES |
                NBD_FLAG_SEND_DF | NBD_FLAG_CAN_MULTI_CONN | NBD_FLAG_SEND_CACHE |
                NBD_FLAG_SEND_FAST_ZERO);
  e = ExportConfig{};
  e.flush = e.fua = e.trim = e.write_zeroes = e.cache = e.df = e.multi_conn = false;
  EXPECT_EQ(e.transmission_flags(true), NBD_FLAG_HAS_FLAGS);
}

TEST(ExportConfig, UnsetBlockSizesTakeDefaultsThatFitTheSetOnes) {
  ExportConfig e;
  EXPECT_FALSE(e.advertises_block_sizes());
  auto s = e.block_sizes();
  EXPECT_EQ(s.minimum, 1u);
  EXPECT_EQ(s.preferred, 4096u);
  EXPECT_EQ(s.maximum, 32u << 20);
  e.minimum_block = 65536;
  EXPECT_TRUE(e.advertises_block_sizes());
  s = e.block_sizes();
  EXPECT_EQ(s.preferred, 65536u);
  EXPECT_EQ(s.maximum, 32u << 20);
}

TEST(ServeConfig, TheDefaultConfigurationIsSound) {
  EXPECT_EQ(config_problem(default_config()), std::nullopt);
}

TEST(ServeConfig, BrokenBlockSizesAreFound) {
  expect_problem([](ServeConfig& c) { c.exports[0].config.minimum_block = 3; }, "S-SZ-007");
  expect_problem([](ServeConfig& c) { c.exports[0].config.preferred_block = 256; }, "S-SZ-011");
  expect_problem([](ServeConfig& c) { c.exports[0].config.maximum_payload = 1024; }, "S-SZ-013");
  expect_problem(
      [](ServeConfig& c) {
        c.exports[0] = test_export("odd", 1000);
        c.exports[0].config.minimum_block = 512;
      },
      "S-SZ-009");
  // Above the disk's 4096-byte pages, status extents could not follow it.
  expect_problem([](ServeConfig& c) { c.exports[0].config.minimum_block = 8192; }, "X-S-041");
}

TEST(ServeConfig, BrokenExportsAreFound) {
  expect_problem([](ServeConfig& c) { c.exports[0].config.name = std::string("a\0b", 3); },
                 "S-GEN-001");
  expect_problem([](ServeConfig& c) { c.exports[0].config.size = 5; }, "holds");
  expect_problem([](ServeConfig& c) { c.exports.push_back(test_export("disk", 512)); },
                 "two exports");
  expect_problem([](ServeConfig& c) { c.info_and_go = false; }, "X-S-025");
  expect_problem(
      [](ServeConfig& c) {
        c.oldstyle = true;
        c.exports.clear();
      },
      "oldstyle");
}

TEST(ServeConfig, TheEmptyNameFindsTheDefaultExport) {
  auto config = default_config();
  config.exports.push_back(test_export("other", 512));
  EXPECT_EQ(config.find("")->config.name, "disk");
  EXPECT_EQ(config.find("other")->config.name, "other");
  EXPECT_EQ(config.find("nosuch"), nullptr);
  config.exports.push_back(test_export("", 1024));
  EXPECT_EQ(config.find("")->config.size, 1024u);
}

}  // namespace
}  // namespace nbdref::mock::test
