// --list: every export the server lists (NBD_OPT_LIST), each described
// with NBD_OPT_INFO.
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tools/info_run.hpp"

namespace nbdref::test {
namespace {

using ::testing::HasSubstr;

std::vector<std::string> two_exports() {
  return nbdkit_command({"--filter=exportname", "memory", "1M", "exportname-list=explicit",
                         "exportname=a", "exportname=b", "exportdesc=fixed:DESC"});
}

TEST(InfoList, ShowsEveryListedExportWithItsDescriptionAndReport) {
  const auto run = run_info(with_command({"--list"}, two_exports()));
  ASSERT_EQ(run.status, 0) << describe(run);
  EXPECT_THAT(run.output, HasSubstr("exports listed: 2\n"));
  for (const char* name : {"a", "b"}) {
    EXPECT_THAT(run.output, HasSubstr(std::string("export \"") + name +
                                      "\":\n"
                                      "  canonical name: \"" +
                                      name +
                                      "\"\n"
                                      "  description: \"DESC\"\n"
                                      "  size: 1048576 bytes (1 MiB)\n"))
        << name;
  }
}

// The eval plugin lists two exports but refuses to open one of them.
TEST(InfoList, ReportsAListedExportTheServerWillNotDescribeAndFails) {
  const auto run = run_info(with_command(
      {"--list"}, nbdkit_command({"eval", "list_exports=printf 'NAMES\\na\\ngone\\n'",
                                  "open=if [ \"$3\" = gone ]; then exit 1; fi; echo handle",
                                  "get_size=echo 4096", "pread=exit 1"})));
  EXPECT_EQ(run.status, 1) << describe(run);
  EXPECT_THAT(run.output, HasSubstr("export \"a\":\n  canonical name: \"a\"\n"));
  EXPECT_THAT(run.output, HasSubstr("export \"gone\":\n  error: asking about export 'gone'"));
  EXPECT_THAT(run.output, HasSubstr("nbdref-info: asking about export 'gone': "));
}

}  // namespace
}  // namespace nbdref::test
