// --json: one document per run, checked with jq for structure and types.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tools/info_run.hpp"

namespace nbdref::test {
namespace {

void expect_jq(const ProgramRun& tool, const std::string& filter) {
  const auto jq = run_jq(tool.output, filter);
  EXPECT_EQ(jq.status, 0) << "jq filter " << filter << "\n"
                          << describe(jq) << "\non\n"
                          << tool.output;
}

TEST(InfoJson, ReportHasNumbersBooleansAndNulls) {
  const auto run = run_info(with_command({"--json"}, nbdkit_command({"memory", "1M"})));
  ASSERT_EQ(run.status, 0) << describe(run);
  expect_jq(run,
            ".protocol == \"newstyle-fixed\" and .[\"structured-replies\"] == true and "
            ".[\"extended-headers\"] == false and (.exports | length) == 1");
  expect_jq(run,
            ".exports[0] | .[\"export-name\"] == \"\" and .size == 1048576 and "
            ".[\"size-human\"] == \"1 MiB\" and .description == null and "
            ".[\"block-sizes\"] == null and .[\"metadata-contexts\"] == [\"base:allocation\"]");
  expect_jq(run,
            ".exports[0].capabilities | .[\"read-only\"] == false and .flush == true and "
            "([.[] | type] | unique) == [\"boolean\"] and length == 10");
}

// A description with quotes, a backslash and a tab survives the round trip.
TEST(InfoJson, ListEscapesStringsFromTheServer) {
  const auto run = run_info(with_command(
      {"--json", "--list"},
      nbdkit_command({"--filter=exportname", "memory", "1M", "exportname-list=explicit",
                      "exportname=a", "exportname=b", "exportdesc=fixed:say \"hi\" \\ \tnow"})));
  ASSERT_EQ(run.status, 0) << describe(run);
  expect_jq(run,
            "[.exports[] | [.[\"export-name\"], .description, .size]] == "
            "[[\"a\", \"say \\\"hi\\\" \\\\ \\tnow\", 1048576], "
            "[\"b\", \"say \\\"hi\\\" \\\\ \\tnow\", 1048576]]");
}

// The NBD specification does not make descriptions UTF-8: a byte that is not
// becomes U+FFFD, a control character an escape, and the document parses.
TEST(InfoJson, ReplacesBytesThatAreNotUtf8) {
  const auto run = run_info(with_command(
      {"--json"}, nbdkit_command({"--filter=exportname", "memory", "1M",
                                  std::string("exportdesc=fixed:bad\xff\x01") + "caf\u00e9"})));
  ASSERT_EQ(run.status, 0) << describe(run);
  expect_jq(run, ".exports[0].description == \"bad\\ufffd\\u0001caf\\u00e9\"");
}

TEST(InfoJson, MapHasOffsetsLengthsFlagsAndMeanings) {
  const auto run = run_info(
      with_command({"--json", "--map"}, nbdkit_command({"data", "1 @65536 2", "size=1M"})));
  ASSERT_EQ(run.status, 0) << describe(run);
  expect_jq(run,
            ".[\"metadata-context\"] == \"base:allocation\" and .size == 1048576 and "
            ".extents == ["
            "{\"offset\": 0, \"length\": 32768, \"flags\": 0, \"meaning\": \"data\"}, "
            "{\"offset\": 32768, \"length\": 32768, \"flags\": 3, \"meaning\": \"hole,zero\"}, "
            "{\"offset\": 65536, \"length\": 32768, \"flags\": 0, \"meaning\": \"data\"}, "
            "{\"offset\": 98304, \"length\": 950272, \"flags\": 3, \"meaning\": \"hole,zero\"}]");
}

}  // namespace
}  // namespace nbdref::test
