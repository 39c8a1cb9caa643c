// The C++ API's NBD URIs: Client::connect_uri, aio_connect_uri, get_uri,
// supports_uri and the set_uri_allow_* policy, against a real nbdkit.
#include <cerrno>
#include <chrono>
#include <string>

#include <gtest/gtest.h>
#include <nbdref/client.hpp>

#include "support/nbdkit_server.hpp"

namespace nbdref::test {
namespace {

// Runs `call`, which must throw ClientError with `errnum` and `message`.
template <class Call>
void expect_throws(Call call, int errnum, const std::string& message) {
  try {
    call();
    ADD_FAILURE() << "no exception; expected: " << message;
  } catch (const ClientError& e) {
    EXPECT_EQ(e.errnum(), errnum) << e.what();
    EXPECT_EQ(std::string(e.what()), message);
  }
}

TEST(CxxUri, SupportsUriMatchesTheBuild) {
  EXPECT_EQ(Client::supports_uri(), NBDREF_URI_BUILT != 0);
}

#if NBDREF_URI_BUILT

NbdkitServer::Options one_megabyte(Transport transport) {
  NbdkitServer::Options o;
  o.plugin_args = {"size=1M"};
  o.transport = transport;
  return o;
}

// U-004, U-014 (uri.md "NBD URI scheme", "NBD URI export name").
TEST(CxxUri, ConnectsOverAUnixSocketAndNamesItBack) {
  NbdkitServer server(one_megabyte(Transport::UnixSocket));
  const std::string uri = "nbd+unix:///my%20disk?socket=" + server.endpoint().unix_path;
  Client c;
  c.connect_uri(uri);
  EXPECT_TRUE(c.is_ready());
  EXPECT_EQ(c.size(), 1u << 20);
  EXPECT_EQ(c.export_name(), "my disk");
  EXPECT_EQ(c.get_uri(), uri);
  Client again;
  again.connect_uri(c.get_uri());
  EXPECT_EQ(again.size(), 1u << 20);
}

TEST(CxxUri, AioConnectUriReachesReadyOverTcp) {
  NbdkitServer server(one_megabyte(Transport::Tcp));
  const std::string uri = "nbd://" + server.endpoint().host + ":" + server.endpoint().port + "/e";
  Client c;
  c.aio_connect_uri(uri);
  EXPECT_EQ(c.get_uri(), uri);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (c.is_connecting() && std::chrono::steady_clock::now() < deadline) c.poll(100);
  EXPECT_TRUE(c.is_ready()) << c.state();
  EXPECT_EQ(c.size(), 1u << 20);
}

TEST(CxxUri, MalformedUriThrowsEinval) {
  Client c;
  expect_throws([&] { c.connect_uri("nbd://example.com:http/"); }, EINVAL,
                "invalid NBD URI: port 'http' is not a decimal number");
  EXPECT_TRUE(c.is_created());
}

TEST(CxxUri, PolicyRefusalThrowsEperm) {
  Client c;
  c.set_uri_allow_transports(uri_transport::tcp);
  expect_throws([&] { c.connect_uri("nbd+unix:///?socket=/nonexistent/s"); }, EPERM,
                "the URI's transport (nbd+unix: a Unix socket) is not permitted by the handle's "
                "URI transports (nbd_set_uri_allow_transports)");
  c.set_uri_allow_tls(Tls::Require);
  expect_throws([&] { c.connect_uri("nbd://localhost/"); }, EPERM,
                "the URI does not use TLS (nbd) and the handle's URI TLS policy requires it "
                "(nbd_set_uri_allow_tls)");
  expect_throws([&] { c.connect_uri("nbds://localhost/?tls-psk-file=/k.psk"); }, EPERM,
                "the URI's tls-psk-file parameter names a local file, which the handle's URI "
                "policy does not allow (nbd_set_uri_allow_local_file)");
  EXPECT_TRUE(c.is_created());
}

TEST(CxxUri, AllowingLocalFilesLetsTheUriNameThem) {
  NbdkitServer server(one_megabyte(Transport::UnixSocket));
  Client c;
  c.set_uri_allow_local_file(true);
  c.connect_uri("nbd+unix:///?socket=" + server.endpoint().unix_path +
                "&tls-certificates=/nonexistent/pki");
  EXPECT_TRUE(c.is_ready());
}

TEST(CxxUri, UnknownTransportBitsThrowEinval) {
  Client c;
  expect_throws([&] { c.set_uri_allow_transports(uri_transport::all + 1); }, EINVAL,
                "transport mask 8 has unknown bits");
}

TEST(CxxUri, GetUriBeforeConnectingThrowsEnotconn) {
  Client c;
  expect_throws([&] { (void)c.get_uri(); }, ENOTCONN,
                "invalid state: the handle is created, a URI exists once it is connecting or "
                "connected");
}

TEST(CxxUri, GetUriOfAConnectionNotMadeByUriThrowsEnotsup) {
  Client c;
  c.connect_command({"nbdkit", "-s", "--exit-with-parent", "memory", "1M"});
  expect_throws([&] { (void)c.get_uri(); }, ENOTSUP,
                "get_uri names connections made by connect_uri or aio_connect_uri only");
}

#else

TEST(CxxUri, WithoutUriSupportEveryCallThrowsEnotsup) {
  Client c;
  expect_throws([&] { c.connect_uri("nbd://localhost/"); }, ENOTSUP,
                "this build has no NBD URI support");
  expect_throws([&] { (void)c.get_uri(); }, ENOTSUP, "this build has no NBD URI support");
}

#endif

}  // namespace
}  // namespace nbdref::test
