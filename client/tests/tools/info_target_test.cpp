// The ways to reach a server: a Unix socket, TCP (IPv6 in brackets) and a
// command (the other tests), and what happens when nothing answers.
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/nbdkit_server.hpp"
#include "tools/info_run.hpp"

namespace nbdref::test {
namespace {

using ::testing::HasSubstr;

NbdkitServer::Options one_megabyte(Transport transport) {
  NbdkitServer::Options options;
  options.plugin_args = {"size=1M"};
  options.transport = transport;
  return options;
}

TEST(InfoTarget, ReachesAServerOnAUnixSocket) {
  NbdkitServer server(one_megabyte(Transport::UnixSocket));
  const auto run = run_info({"--unix", server.endpoint().unix_path});
  ASSERT_EQ(run.status, 0) << describe(run);
  EXPECT_THAT(run.output, HasSubstr("  size: 1048576 bytes (1 MiB)\n"));
}

TEST(InfoTarget, ReachesAServerOverTcp) {
  NbdkitServer server(one_megabyte(Transport::Tcp));
  const auto& endpoint = server.endpoint();
  const auto run = run_info({"--tcp", endpoint.host + ":" + endpoint.port});
  ASSERT_EQ(run.status, 0) << describe(run);
  EXPECT_THAT(run.output, HasSubstr("  size: 1048576 bytes (1 MiB)\n"));
}

// Port 1 has no server: the failure names the address the brackets gave.
TEST(InfoTarget, TakesABracketedIpv6Address) {
  const auto run = run_info({"--tcp", "[::1]:1"});
  EXPECT_EQ(run.status, 1) << describe(run);
  EXPECT_THAT(run.output, HasSubstr("nbdref-info: connecting to tcp [::1]:1: "));
}

TEST(InfoTarget, UnreachableUnixSocketFailsNamingThePath) {
  const auto run = run_info({"--unix", "/nonexistent/nbdref-info.sock"});
  EXPECT_EQ(run.status, 1) << describe(run);
  EXPECT_THAT(run.output,
              HasSubstr("nbdref-info: connecting to unix socket /nonexistent/nbdref-info.sock: "));
  EXPECT_THAT(run.output, HasSubstr("No such file or directory"));
}

TEST(InfoTarget, UnknownExportFailsNamingIt) {
  const auto run = run_info(with_command(
      {"--export", "missing"}, nbdkit_command({"--filter=exportname", "memory", "1M",
                                               "exportname=a", "exportname-strict=true"})));
  EXPECT_EQ(run.status, 1) << describe(run);
  EXPECT_THAT(run.output, HasSubstr("nbdref-info: asking about export 'missing': "));
  EXPECT_THAT(run.output, HasSubstr("No such file or directory"));
}

}  // namespace
}  // namespace nbdref::test
