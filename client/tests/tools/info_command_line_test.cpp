// Usage: --help, and the exit status 2 that tells a wrong command line from a
// failing server.
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tools/info_run.hpp"

namespace nbdref::test {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr const char* kUsage = "usage: nbdref-info [--json] [--list | --map [CONTEXT]]";

TEST(InfoCommandLine, HelpPrintsUsageAndExitsZero) {
  const auto run = run_info({"--help"});
  EXPECT_EQ(run.status, 0) << describe(run);
  EXPECT_THAT(run.output, HasSubstr(kUsage));
  EXPECT_THAT(run.output, HasSubstr("--map [CONTEXT]"));
}

TEST(InfoCommandLine, UnknownOptionExitsTwoWithUsage) {
  const auto run = run_info({"--bogus", "--unix", "/nonexistent"});
  EXPECT_EQ(run.status, 2) << describe(run);
  EXPECT_THAT(run.output, StartsWith("nbdref-info: unknown option '--bogus'\n"));
  EXPECT_THAT(run.output, HasSubstr(kUsage));
}

TEST(InfoCommandLine, MissingTargetExitsTwo) {
  const auto run = run_info({"--json"});
  EXPECT_EQ(run.status, 2) << describe(run);
  EXPECT_THAT(run.output, StartsWith("nbdref-info: no server given"));
}

TEST(InfoCommandLine, ListAndMapTogetherExitTwo) {
  const auto run = run_info({"--list", "--map", "--unix", "/nonexistent"});
  EXPECT_EQ(run.status, 2) << describe(run);
  EXPECT_THAT(run.output, StartsWith("nbdref-info: --list and --map cannot be combined\n"));
}

TEST(InfoCommandLine, UnbracketedIpv6AddressExitsTwo) {
  const auto run = run_info({"--tcp", "::1"});
  EXPECT_EQ(run.status, 2) << describe(run);
  EXPECT_THAT(run.output, HasSubstr("put an IPv6 address in brackets"));
}

}  // namespace
}  // namespace nbdref::test
