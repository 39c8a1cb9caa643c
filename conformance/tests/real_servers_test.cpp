// nbdref-conform, the program, against the real servers of Debian 12, each
// started by the interop fixtures of client/tests/support and compared with
// its expectation file in conformance/expectations: any difference, in
// either direction, fails the test and shows the report.
#include <gtest/gtest.h>

#include "support/nbd_server_daemon.hpp"
#include "support/nbdkit_server.hpp"
#include "support/program_run.hpp"
#include "support/qemu_nbd_server.hpp"
#include "uri/nbd_uri.hpp"

namespace nbdref::conform {
namespace {

std::string uri_of(const test::Endpoint& endpoint, const std::string& export_name) {
  uri::NbdUri u;
  if (endpoint.is_unix()) {
    u.transport = uri::Transport::Unix;
    u.socket = endpoint.unix_path;
  } else {
    u.host = endpoint.host;
    u.port = endpoint.port;
  }
  u.export_name = export_name;
  auto text = uri::format_nbd_uri(u);
  if (!text) throw std::runtime_error(text.error().message);
  return *text;
}

void expect_as_expected(const std::string& uri, const std::string& expectations) {
  const test::ProgramRun run =
      test::run_program({NBDREF_CONFORM_PROGRAM, "--timeout", "5", "--expect",
                         std::string(NBDREF_CONFORM_EXPECTATIONS) + "/" + expectations, uri},
                        std::chrono::seconds(240));
  EXPECT_EQ(run.status, 0) << test::describe(run);
}

TEST(RealServers, NbdkitMemoryPlugin) {
  test::NbdkitServer server;
  expect_as_expected(uri_of(server.endpoint(), ""), "nbdkit-memory.txt");
}

TEST(RealServers, NbdkitMemoryPluginReadOnly) {
  test::NbdkitServer::Options options;
  options.read_only = true;
  test::NbdkitServer server(options);
  expect_as_expected(uri_of(server.endpoint(), ""), "nbdkit-memory.txt");
}

TEST(RealServers, QemuNbdRawImage) {
  test::QemuNbdServer server;
  expect_as_expected(uri_of(server.endpoint(), server.export_name()), "qemu-nbd-raw.txt");
}

TEST(RealServers, QemuNbdRawImageReadOnly) {
  test::QemuNbdServer::Options options;
  options.read_only = true;
  test::QemuNbdServer server(options);
  expect_as_expected(uri_of(server.endpoint(), server.export_name()), "qemu-nbd-raw-readonly.txt");
}

test::NbdServerDaemon::Options nbd_server_options(bool read_only) {
  test::NbdServerDaemon::Options options;
  options.exports[0].read_only = read_only;
  options.exports[0].trim = true;
  options.exports[0].flush = true;
  options.exports[0].fua = true;
  return options;
}

TEST(RealServers, NbdServerFile) {
  test::NbdServerDaemon server(nbd_server_options(false));
  expect_as_expected(uri_of(server.endpoint(), server.exports()[0].name), "nbd-server-file.txt");
}

TEST(RealServers, NbdServerFileReadOnly) {
  test::NbdServerDaemon server(nbd_server_options(true));
  expect_as_expected(uri_of(server.endpoint(), server.exports()[0].name), "nbd-server-file.txt");
}

}  // namespace
}  // namespace nbdref::conform
