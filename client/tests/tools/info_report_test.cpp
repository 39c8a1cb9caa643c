// The default report: one export's size, capabilities, block sizes, name,
// description and metadata contexts, read in option mode.
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tools/info_run.hpp"

namespace nbdref::test {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(InfoReport, ShowsSizeCapabilitiesAndContextsOfACommandServer) {
  const auto run = run_info(with_command({}, nbdkit_command({"memory", "1M"})));
  ASSERT_EQ(run.status, 0) << describe(run);
  EXPECT_THAT(run.output, HasSubstr("protocol: newstyle-fixed\n"));
  EXPECT_THAT(run.output, HasSubstr("structured replies: yes\n"));
  EXPECT_THAT(run.output, HasSubstr("extended headers: no\n"));
  EXPECT_THAT(run.output, HasSubstr("export \"\":\n"));
  EXPECT_THAT(run.output, HasSubstr("  size: 1048576 bytes (1 MiB)\n"));
  // nbdkit's memory plugin offers every command.
  for (const char* capability :
       {"flush", "fua", "trim", "zero", "fast-zero", "df", "multi-conn", "cache"}) {
    EXPECT_THAT(run.output, HasSubstr(std::string("    ") + capability + ": yes\n")) << capability;
  }
  EXPECT_THAT(run.output, HasSubstr("    read-only: no\n"));
  EXPECT_THAT(run.output, HasSubstr("    rotational: no\n"));
  EXPECT_THAT(run.output, HasSubstr("  block sizes: not advertised\n"));
  EXPECT_THAT(run.output, HasSubstr("  metadata contexts:\n    base:allocation\n"));
}

TEST(InfoReport, ShowsAReadOnlyExport) {
  const auto run = run_info(with_command({}, nbdkit_command({"-r", "memory", "1M"})));
  ASSERT_EQ(run.status, 0) << describe(run);
  EXPECT_THAT(run.output, HasSubstr("    read-only: yes\n"));
  EXPECT_THAT(run.output, Not(HasSubstr("read-only: no")));
}

TEST(InfoReport, ShowsAdvertisedBlockSizes) {
  const auto run = run_info(with_command(
      {}, nbdkit_command({"--filter=blocksize-policy", "memory", "1M", "blocksize-minimum=512",
                          "blocksize-preferred=4096", "blocksize-maximum=65536"})));
  ASSERT_EQ(run.status, 0) << describe(run);
  EXPECT_THAT(run.output, HasSubstr("  block sizes: minimum 512, preferred 4096, maximum 65536\n"));
}

TEST(InfoReport, ShowsTheChosenExportWithCanonicalNameAndDescription) {
  const auto run = run_info(with_command(
      {"--export", "b"}, nbdkit_command({"--filter=exportname", "memory", "1M",
                                         "exportname-list=explicit", "exportname=a", "exportname=b",
                                         "exportdesc=fixed:DESC", "exportname-strict=true"})));
  ASSERT_EQ(run.status, 0) << describe(run);
  EXPECT_THAT(run.output, HasSubstr("export \"b\":\n  canonical name: \"b\"\n"));
  EXPECT_THAT(run.output, HasSubstr("  description: \"DESC\"\n"));
}

// Control characters and bytes that are not UTF-8 must not reach the
// terminal raw; valid UTF-8 is shown as it is.
TEST(InfoReport, EscapesDescriptionBytesThatAreNotPrintable) {
  const auto run = run_info(with_command(
      {}, nbdkit_command({"--filter=exportname", "memory", "1M",
                          std::string("exportdesc=fixed:bad\xff\x01") + "caf\u00e9"})));
  ASSERT_EQ(run.status, 0) << describe(run);
  EXPECT_THAT(run.output, HasSubstr("  description: \"bad\\xff\\x01caf\u00e9\"\n"));
}

TEST(InfoReport, ShowsThatAnExportHasNoDescription) {
  const auto run = run_info(with_command({}, nbdkit_command({"memory", "1M"})));
  ASSERT_EQ(run.status, 0) << describe(run);
  EXPECT_THAT(run.output, HasSubstr("  description: none\n"));
}

// Oldstyle servers send the export's size and flags at once, with no options.
TEST(InfoReport, ShowsAnOldstyleServerWithoutOptions) {
  const auto run = run_info(with_command({}, nbdkit_command({"--oldstyle", "memory", "1M"})));
  ASSERT_EQ(run.status, 0) << describe(run);
  EXPECT_THAT(run.output, HasSubstr("protocol: oldstyle\n"));
  EXPECT_THAT(run.output, HasSubstr("  size: 1048576 bytes (1 MiB)\n"));
  EXPECT_THAT(run.output,
              HasSubstr("  metadata contexts: not listed (the server's handshake has no option "
                        "phase)\n"));
}

// Without structured replies there are no metadata contexts to list (C-BS-005).
TEST(InfoReport, ShowsWhyContextsAreNotListedWithoutStructuredReplies) {
  const auto run = run_info(with_command({}, nbdkit_command({"--no-sr", "memory", "1M"})));
  ASSERT_EQ(run.status, 0) << describe(run);
  EXPECT_THAT(run.output, HasSubstr("structured replies: no\n"));
  EXPECT_THAT(run.output,
              ContainsRegex("  metadata contexts: not listed \\([^\n]*structured replies"));
}

}  // namespace
}  // namespace nbdref::test
