// An NBD URI as nbdref-info's target (uri.md): it says where the server is
// and which export to show; a malformed one is a usage error (status 2).
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/nbdkit_server.hpp"
#include "tools/info_run.hpp"

namespace nbdref::test {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr const char* kUsage = "usage: nbdref-info [--json] [--list | --map [CONTEXT]]";

NbdkitServer::Options one_megabyte(Transport transport, std::vector<std::string> extra_args = {},
                                   std::vector<std::string> plugin_args = {"size=1M"}) {
  NbdkitServer::Options options;
  options.plugin_args = std::move(plugin_args);
  options.extra_args = std::move(extra_args);
  options.transport = transport;
  return options;
}

std::string unix_uri(const NbdkitServer& server, const std::string& path = "/") {
  return "nbd+unix://" + path + "?socket=" + server.endpoint().unix_path;
}

// U-004 (uri.md "NBD URI scheme").
TEST(InfoUri, ReachesAServerByUnixSocketUri) {
  NbdkitServer server(one_megabyte(Transport::UnixSocket));
  const auto run = run_info({unix_uri(server)});
  ASSERT_EQ(run.status, 0) << describe(run);
  EXPECT_THAT(run.output, HasSubstr("export \"\":\n"));
  EXPECT_THAT(run.output, HasSubstr("  size: 1048576 bytes (1 MiB)\n"));
}

// U-012 (uri.md "NBD URI authority").
TEST(InfoUri, ReachesAServerByTcpUri) {
  NbdkitServer server(one_megabyte(Transport::Tcp));
  const auto& endpoint = server.endpoint();
  const auto run = run_info({"--json", "nbd://" + endpoint.host + ":" + endpoint.port + "/"});
  ASSERT_EQ(run.status, 0) << describe(run);
  EXPECT_THAT(run.output, HasSubstr("\"size\": 1048576"));
}

// U-014 (uri.md "NBD URI export name"): the URI's path, decoded, is the
// export shown; nbdkit's strict exportname filter knows no other name.
TEST(InfoUri, ShowsTheExportTheUriNames) {
  NbdkitServer server(one_megabyte(Transport::UnixSocket, {"--filter=exportname"},
                                   {"size=1M", "exportname=disk one", "exportname-strict=true"}));
  const auto run = run_info({unix_uri(server, "/disk%20one")});
  ASSERT_EQ(run.status, 0) << describe(run);
  EXPECT_THAT(run.output, HasSubstr("export \"disk one\":\n"));
  EXPECT_THAT(run.output, HasSubstr("  size: 1048576 bytes (1 MiB)\n"));
}

TEST(InfoUri, MapsTheExportTheUriNames) {
  NbdkitServer server(one_megabyte(Transport::UnixSocket, {"--filter=exportname"},
                                   {"size=1M", "exportname=e", "exportname-strict=true"}));
  const auto run = run_info({"--map", unix_uri(server, "/e")});
  ASSERT_EQ(run.status, 0) << describe(run);
  EXPECT_THAT(run.output, HasSubstr("extents of export \"e\" for base:allocation"));
}

TEST(InfoUri, MalformedUriExitsTwoWithTheLibrarysReason) {
  const auto run = run_info({"nbd+unix:///disk"});
  EXPECT_EQ(run.status, 2) << describe(run);
  EXPECT_THAT(
      run.output,
      StartsWith("nbdref-info: invalid NBD URI: an nbd+unix URI needs a socket parameter "
                 "naming the Unix socket, as in nbd+unix:///EXPORT?socket=/run/nbd.sock\n"));
  EXPECT_THAT(run.output, HasSubstr(kUsage));
}

TEST(InfoUri, UnreachableUriFailsNamingIt) {
  const auto run = run_info({"nbd+unix:///?socket=/nonexistent/nbdref-info.sock"});
  EXPECT_EQ(run.status, 1) << describe(run);
  EXPECT_THAT(run.output, HasSubstr("nbdref-info: connecting to "
                                    "nbd+unix:///?socket=/nonexistent/nbdref-info.sock: "));
  EXPECT_THAT(run.output, HasSubstr("No such file or directory"));
}

TEST(InfoUri, ExportOptionWithAUriExitsTwo) {
  const auto run = run_info({"--export", "a", "nbd://localhost/b"});
  EXPECT_EQ(run.status, 2) << describe(run);
  EXPECT_THAT(run.output, StartsWith("nbdref-info: the URI names the export (its path); --export "
                                     "does not apply\n"));
}

TEST(InfoUri, UriAndAnotherTargetExitTwo) {
  const auto run = run_info({"nbd://localhost/", "--unix", "/nonexistent"});
  EXPECT_EQ(run.status, 2) << describe(run);
  EXPECT_THAT(run.output,
              StartsWith("nbdref-info: give one target: a URI, --unix, --tcp or -- COMMAND\n"));
}

TEST(InfoUri, WordThatIsNoUriExitsTwo) {
  const auto run = run_info({"localhost"});
  EXPECT_EQ(run.status, 2) << describe(run);
  EXPECT_THAT(run.output, StartsWith("nbdref-info: 'localhost' is neither an option nor an NBD URI "
                                     "(nbd://HOST/EXPORT, nbd+unix:///EXPORT?socket=PATH, ...)\n"));
}

TEST(InfoUri, HelpDescribesUris) {
  const auto run = run_info({"--help"});
  EXPECT_EQ(run.status, 0) << describe(run);
  EXPECT_THAT(run.output, HasSubstr("nbd+unix:///EXPORT?socket=PATH"));
  EXPECT_THAT(run.output, HasSubstr("nbdref-info 'nbd+unix:///?socket=/tmp/nbd.sock'"));
}

}  // namespace
}  // namespace nbdref::test
