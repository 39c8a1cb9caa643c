// Connecting by NBD URI (nbd_connect_uri(3), nbd_aio_connect_uri(3)) to a
// real nbdkit over a Unix socket and TCP; the handle's URI policy
// (nbd_set_uri_allow_*(3)) refusing with exact errors; nbd_get_uri(3) and
// connecting again with what it gave. Only meaningful with URI support
// (NBDREF_URI); a build without it must say ENOTSUP, which
// tls_uri_settings_test.cpp checks.
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "capi_fixture.hpp"
#include "support/nbdkit_server.hpp"
#include "support/temp_dir.hpp"

namespace nbdref::test {
namespace {

// ---- support ----

TEST(UriSupport, MatchesTheBuild) {
  auto h = new_handle();
  EXPECT_EQ(nbd_supports_uri(h.get()), NBDREF_URI_BUILT ? 1 : 0);
}

#if NBDREF_URI_BUILT

constexpr int64_t kServerSize = int64_t{1} << 20;

NbdkitServer::Options nbdkit_on(Transport transport, std::vector<std::string> extra_args = {},
                                std::vector<std::string> plugin_args = {"size=1M"}) {
  NbdkitServer::Options o;
  o.plugin_args = std::move(plugin_args);
  o.extra_args = std::move(extra_args);
  o.transport = transport;
  return o;
}

std::string take(char* s) {
  std::string r = s ? s : "(null)";
  std::free(s);
  return r;
}

std::string unix_uri(const NbdkitServer& server, const std::string& path_and_more = "/") {
  const auto q = path_and_more.find('?');
  const std::string path = path_and_more.substr(0, q);
  const std::string more = q == std::string::npos ? "" : "&" + path_and_more.substr(q + 1);
  return "nbd+unix://" + path + "?socket=" + server.endpoint().unix_path + more;
}

std::string tcp_uri(const NbdkitServer& server, const std::string& path = "/") {
  return "nbd://" + server.endpoint().host + ":" + server.endpoint().port + path;
}

void expect_usable(nbd_handle* h) {
  EXPECT_EQ(nbd_aio_is_ready(h), 1) << nbd_connection_state(h) << " " << last_error();
  EXPECT_EQ(nbd_get_size(h), kServerSize) << last_error();
  std::vector<char> buf(512, 1);
  EXPECT_EQ(nbd_pread(h, buf.data(), buf.size(), 0, 0), 0) << last_error();
}

// A refused URI leaves the handle as it was: newly created, no setting changed.
void expect_untouched(nbd_handle* h) {
  EXPECT_EQ(nbd_aio_is_created(h), 1) << nbd_connection_state(h);
  EXPECT_EQ(take(nbd_get_export_name(h)), "");
  EXPECT_EQ(nbd_get_tls(h), LIBNBD_TLS_DISABLE);
}

void expect_error(int errnum, const std::string& message) {
  EXPECT_EQ(nbd_get_errno(), errnum) << last_error();
  const char* m = nbd_get_error();
  EXPECT_EQ(std::string(m ? m : "(null)"), message);
}

// ---- connecting ----

// U-004, U-014 (uri.md "NBD URI scheme", "NBD URI export name").
TEST(ConnectUri, ReachesNbdkitOverAUnixSocket) {
  NbdkitServer server(nbdkit_on(Transport::UnixSocket));
  auto h = new_handle();
  ASSERT_EQ(nbd_connect_uri(h.get(), unix_uri(server, "/disk").c_str()), 0) << last_error();
  expect_usable(h.get());
  EXPECT_EQ(take(nbd_get_export_name(h.get())), "disk");
}

// U-002, U-012 (uri.md "NBD URI scheme", "NBD URI authority").
TEST(ConnectUri, ReachesNbdkitOverTcp) {
  NbdkitServer server(nbdkit_on(Transport::Tcp));
  auto h = new_handle();
  ASSERT_EQ(nbd_connect_uri(h.get(), tcp_uri(server, "/x").c_str()), 0) << last_error();
  expect_usable(h.get());
  EXPECT_EQ(take(nbd_get_export_name(h.get())), "x");
}

TEST(ConnectUri, AioConnectReachesReadyWithNbdPoll) {
  NbdkitServer server(nbdkit_on(Transport::Tcp));
  auto h = new_handle();
  ASSERT_EQ(nbd_aio_connect_uri(h.get(), tcp_uri(server).c_str()), 0) << last_error();
  EXPECT_EQ(nbd_aio_is_created(h.get()), 0);
  ASSERT_TRUE(poll_until(h.get(), [&] { return nbd_aio_is_connecting(h.get()) == 0; }))
      << nbd_connection_state(h.get());
  expect_usable(h.get());
}

// U-014 (uri.md "NBD URI export name"): the decoded name is what goes on the
// wire. nbdkit's exportname filter, strict, accepts only "hello world".
TEST(ConnectUri, SendsThePercentDecodedExportName) {
  NbdkitServer server(nbdkit_on(Transport::UnixSocket, {"--filter=exportname"},
                                {"size=1M", "exportname=hello world", "exportname-strict=true"}));
  auto good = new_handle();
  ASSERT_EQ(nbd_connect_uri(good.get(), unix_uri(server, "/hello%20world").c_str()), 0)
      << last_error();
  EXPECT_EQ(nbd_get_size(good.get()), kServerSize) << last_error();
  auto bad = new_handle();
  EXPECT_EQ(nbd_connect_uri(bad.get(), unix_uri(server, "/hello%2520world").c_str()), -1);
  EXPECT_EQ(nbd_aio_is_ready(bad.get()), 0);
}

// U-010, U-016 (uri.md "NBD URI authority", "... related to TLS"): a plain
// URI's TLS details still reach the handle's settings.
TEST(ConnectUri, AppliesTheUsernameAndTlsParameters) {
  NbdkitServer server(nbdkit_on(Transport::UnixSocket));
  auto h = new_handle();
  ASSERT_EQ(nbd_connect_uri(h.get(), ("nbd+unix://alice@/?socket=" + server.endpoint().unix_path +
                                      "&tls-verify-peer=0&tls-hostname=server.example")
                                         .c_str()),
            0)
      << last_error();
  EXPECT_EQ(take(nbd_get_tls_username(h.get())), "alice");
  EXPECT_EQ(nbd_get_tls_verify_peer(h.get()), 0);
  EXPECT_EQ(nbd_get_tls(h.get()), LIBNBD_TLS_DISABLE);
  expect_usable(h.get());
}

// U-018 (uri.md "Other NBD URI query parameters").
TEST(ConnectUri, IgnoresExperimentalParameters) {
  NbdkitServer server(nbdkit_on(Transport::UnixSocket));
  auto h = new_handle();
  ASSERT_EQ(nbd_connect_uri(h.get(), unix_uri(server, "/?x-nbdref-test=1").c_str()), 0)
      << last_error();
  expect_usable(h.get());
}

// U-020 (uri.md "Other NBD URI query parameters"): diagnosed as an error.
TEST(ConnectUri, RefusesUnknownParametersWithEinval) {
  auto h = new_handle();
  EXPECT_EQ(nbd_connect_uri(h.get(), "nbd://localhost/?compression=1"), -1);
  expect_error(EINVAL,
               "nbd_connect_uri: invalid NBD URI: unknown query parameter 'compression' (known: "
               "socket, tls-type, tls-hostname, tls-verify-peer, tls-certificates, tls-psk-file; "
               "experimental ones begin with x-)");
  expect_untouched(h.get());
}

// U-004 (uri.md "NBD URI scheme").
TEST(ConnectUri, MalformedUriIsEinvalAndChangesNothing) {
  auto h = new_handle();
  EXPECT_EQ(nbd_aio_connect_uri(h.get(), "nbd+unix:///disk"), -1);
  expect_error(EINVAL,
               "nbd_aio_connect_uri: invalid NBD URI: an nbd+unix URI needs a socket parameter "
               "naming the Unix socket, as in nbd+unix:///EXPORT?socket=/run/nbd.sock");
  expect_untouched(h.get());
}

TEST(ConnectUri, NullUriIsEfault) {
  auto h = new_handle();
  EXPECT_EQ(nbd_connect_uri(h.get(), nullptr), -1);
  expect_error(EFAULT, "nbd_connect_uri: uri must not be NULL");
  EXPECT_EQ(nbd_aio_connect_uri(h.get(), nullptr), -1);
  expect_error(EFAULT, "nbd_aio_connect_uri: uri must not be NULL");
}

// nbd_connect_uri(3) "HANDLE STATE": newly created only, whatever the URI.
TEST(ConnectUri, UsedHandleIsRefusedBeforeTheUriIsRead) {
  auto h = connected_handle();
  EXPECT_EQ(nbd_connect_uri(h.get(), "not a uri"), -1);
  expect_error(EINVAL,
               "nbd_connect_uri: invalid state: the handle is ready, connecting needs a newly "
               "created handle");
  expect_usable(h.get());
}

// ---- the handle's URI policy (EPERM, as libnbd) ----

TEST(UriPolicy, TransportNotAllowedIsEperm) {
  NbdkitServer server(nbdkit_on(Transport::UnixSocket));
  auto h = new_handle();
  ASSERT_EQ(nbd_set_uri_allow_transports(h.get(), LIBNBD_ALLOW_TRANSPORT_TCP), 0);
  EXPECT_EQ(nbd_connect_uri(h.get(), unix_uri(server, "/disk").c_str()), -1);
  expect_error(EPERM,
               "nbd_connect_uri: the URI's transport (nbd+unix: a Unix socket) is not permitted by "
               "the handle's URI transports (nbd_set_uri_allow_transports)");
  expect_untouched(h.get());
}

TEST(UriPolicy, AllowedTransportConnects) {
  NbdkitServer server(nbdkit_on(Transport::UnixSocket));
  auto h = new_handle();
  ASSERT_EQ(nbd_set_uri_allow_transports(h.get(), LIBNBD_ALLOW_TRANSPORT_UNIX), 0);
  ASSERT_EQ(nbd_connect_uri(h.get(), unix_uri(server).c_str()), 0) << last_error();
  expect_usable(h.get());
}

TEST(UriPolicy, TcpAndVsockRefusedWhenOnlyUnixIsAllowed) {
  auto h = new_handle();
  ASSERT_EQ(nbd_set_uri_allow_transports(h.get(), LIBNBD_ALLOW_TRANSPORT_UNIX), 0);
  EXPECT_EQ(nbd_connect_uri(h.get(), "nbds://example.com/"), -1);
  expect_error(EPERM,
               "nbd_connect_uri: the URI's transport (nbds: TCP) is not permitted by the "
               "handle's URI transports (nbd_set_uri_allow_transports)");
  EXPECT_EQ(nbd_connect_uri(h.get(), "nbd+vsock:///"), -1);
  expect_error(EPERM,
               "nbd_connect_uri: the URI's transport (nbd+vsock: vsock) is not permitted by the "
               "handle's URI transports (nbd_set_uri_allow_transports)");
  expect_untouched(h.get());
}

// nbd_set_uri_allow_tls(3): LIBNBD_TLS_DISABLE rejects nbds URIs.
TEST(UriPolicy, TlsUriRefusedWhenTlsIsDisabled) {
  auto h = new_handle();
  ASSERT_EQ(nbd_set_uri_allow_tls(h.get(), LIBNBD_TLS_DISABLE), 0);
  EXPECT_EQ(nbd_connect_uri(h.get(), "nbds+unix:///?socket=/nonexistent/nbd.sock"), -1);
  expect_error(EPERM,
               "nbd_connect_uri: the URI requires TLS (nbds+unix) and the handle's URI TLS policy "
               "forbids it (nbd_set_uri_allow_tls)");
  expect_untouched(h.get());
}

// nbd_set_uri_allow_tls(3): LIBNBD_TLS_REQUIRE makes every URI use nbds.
TEST(UriPolicy, PlainUriRefusedWhenTlsIsRequired) {
  NbdkitServer server(nbdkit_on(Transport::UnixSocket));
  auto h = new_handle();
  ASSERT_EQ(nbd_set_uri_allow_tls(h.get(), LIBNBD_TLS_REQUIRE), 0);
  EXPECT_EQ(nbd_connect_uri(h.get(), unix_uri(server).c_str()), -1);
  expect_error(EPERM,
               "nbd_connect_uri: the URI does not use TLS (nbd+unix) and the handle's URI TLS "
               "policy requires it (nbd_set_uri_allow_tls)");
  expect_untouched(h.get());
}

// nbd_set_uri_allow_local_file(3): off by default, so tls-psk-file and
// tls-certificates are refused.
TEST(UriPolicy, LocalFilesRefusedByDefault) {
  auto h = new_handle();
  EXPECT_EQ(nbd_connect_uri(h.get(), "nbds+unix:///?socket=/nonexistent/s&tls-psk-file=/k.psk"),
            -1);
  expect_error(EPERM,
               "nbd_connect_uri: the URI's tls-psk-file parameter names a local file, which the "
               "handle's URI policy does not allow (nbd_set_uri_allow_local_file)");
  EXPECT_EQ(nbd_connect_uri(h.get(), "nbd://localhost/?tls-certificates=/etc/pki/nbd"), -1);
  expect_error(EPERM,
               "nbd_connect_uri: the URI's tls-certificates parameter names a local file, which "
               "the handle's URI policy does not allow (nbd_set_uri_allow_local_file)");
  expect_untouched(h.get());
}

// Once allowed, the file is taken: a plain URI connects with it set.
TEST(UriPolicy, LocalFilesAcceptedOnceAllowed) {
  NbdkitServer server(nbdkit_on(Transport::UnixSocket));
  auto h = new_handle();
  ASSERT_EQ(nbd_set_uri_allow_local_file(h.get(), true), 0);
  ASSERT_EQ(nbd_connect_uri(h.get(), unix_uri(server,
                                              "/?tls-certificates=/nonexistent/pki&"
                                              "tls-psk-file=/nonexistent/k.psk")
                                         .c_str()),
            0)
      << last_error();
  expect_usable(h.get());
}

// ---- TLS ----

// U-003, U-005, U-021 (uri.md "NBD URI scheme", "Clients which do not
// support TLS"): an nbds URI either fails at once in a build without TLS,
// or insists on TLS -- which a plaintext nbdkit cannot give. Never a
// plaintext connection.
TEST(UriTls, NbdsUriNeverConnectsInPlaintext) {
  NbdkitServer server(nbdkit_on(Transport::UnixSocket));
  auto h = new_handle();
  const std::string uri = "nbds+unix:///?socket=" + server.endpoint().unix_path;
  EXPECT_EQ(nbd_connect_uri(h.get(), uri.c_str()), -1);
  if (nbd_supports_tls(h.get()) == 0) {
    expect_error(ENOTSUP,
                 "nbd_connect_uri: the URI requires TLS (nbds+unix) and this build has no TLS "
                 "support (see nbd_supports_tls)");
    expect_untouched(h.get());
  } else {
    EXPECT_EQ(nbd_aio_is_ready(h.get()), 0) << last_error();
    EXPECT_EQ(nbd_aio_is_created(h.get()), 0) << "a connection was attempted";
    EXPECT_EQ(nbd_get_tls(h.get()), LIBNBD_TLS_REQUIRE);
  }
}

#if NBDREF_TLS_BUILT
// U-003, U-010, U-016 (uri.md "NBD URI scheme", "NBD URI authority", "...
// related to TLS"): with TLS support, an nbds URI carrying a username and a
// PSK file reaches nbdkit --tls=require with the same key.
TEST(UriTls, NbdsUriWithPskReachesATlsServer) {
  TempDir dir("nbdref-uri-psk");
  const std::string keys = dir.file("keys.psk");
  {
    std::ofstream out(keys);
    out << "alice:0123456789abcdef0123456789abcdef\n";
  }
  NbdkitServer server(nbdkit_on(Transport::UnixSocket, {"--tls=require", "--tls-psk=" + keys}));
  auto h = new_handle();
  ASSERT_EQ(nbd_set_uri_allow_local_file(h.get(), true), 0);
  const std::string uri =
      "nbds+unix://alice@/?socket=" + server.endpoint().unix_path + "&tls-psk-file=" + keys;
  ASSERT_EQ(nbd_connect_uri(h.get(), uri.c_str()), 0) << last_error();
  EXPECT_EQ(nbd_get_tls_negotiated(h.get()), 1);
  expect_usable(h.get());
  // nbd_get_uri names the TLS details it connected with.
  EXPECT_EQ(take(nbd_get_uri(h.get())),
            "nbds+unix://alice@/?socket=" + server.endpoint().unix_path + "&tls-psk-file=" + keys);
}
#endif

// ---- nbd_get_uri ----

TEST(GetUri, BeforeConnectingIsEnotconn) {
  auto h = new_handle();
  EXPECT_EQ(nbd_get_uri(h.get()), nullptr);
  expect_error(ENOTCONN,
               "nbd_get_uri: invalid state: the handle is created, a URI exists once it is "
               "connecting or connected");
}

// Connect by URI, ask for it back, connect a second handle with the answer.
TEST(GetUri, UnixUriRoundTrips) {
  NbdkitServer server(nbdkit_on(Transport::UnixSocket));
  auto h = new_handle();
  ASSERT_EQ(nbd_connect_uri(h.get(), unix_uri(server, "/my%20disk?x-ignored=1").c_str()), 0)
      << last_error();
  const std::string uri = take(nbd_get_uri(h.get()));
  EXPECT_EQ(uri, "nbd+unix:///my%20disk?socket=" + server.endpoint().unix_path);
  auto again = new_handle();
  ASSERT_EQ(nbd_connect_uri(again.get(), uri.c_str()), 0) << last_error();
  expect_usable(again.get());
  EXPECT_EQ(take(nbd_get_export_name(again.get())), "my disk");
}

TEST(GetUri, TcpUriRoundTrips) {
  NbdkitServer server(nbdkit_on(Transport::Tcp));
  auto h = new_handle();
  ASSERT_EQ(nbd_connect_uri(h.get(), tcp_uri(server, "/e").c_str()), 0) << last_error();
  const std::string uri = take(nbd_get_uri(h.get()));
  EXPECT_EQ(uri, tcp_uri(server, "/e"));
  auto again = new_handle();
  ASSERT_EQ(nbd_connect_uri(again.get(), uri.c_str()), 0) << last_error();
  expect_usable(again.get());
}

// The address of nbd_connect_tcp and nbd_connect_unix is known too.
TEST(GetUri, NamesTheAddressOfConnectTcp) {
  NbdkitServer server(nbdkit_on(Transport::Tcp));
  auto h = new_handle();
  ASSERT_EQ(nbd_set_export_name(h.get(), "a/b"), 0);
  ASSERT_EQ(
      nbd_connect_tcp(h.get(), server.endpoint().host.c_str(), server.endpoint().port.c_str()), 0)
      << last_error();
  const std::string uri = take(nbd_get_uri(h.get()));
  EXPECT_EQ(uri, tcp_uri(server, "/a/b"));
  auto again = new_handle();
  ASSERT_EQ(nbd_connect_uri(again.get(), uri.c_str()), 0) << last_error();
  EXPECT_EQ(take(nbd_get_export_name(again.get())), "a/b");
}

TEST(GetUri, NamesTheSocketOfConnectUnix) {
  NbdkitServer server(nbdkit_on(Transport::UnixSocket));
  auto h = new_handle();
  ASSERT_EQ(nbd_aio_connect_unix(h.get(), server.endpoint().unix_path.c_str()), 0) << last_error();
  // While connecting, too (nbd_get_uri(3) "HANDLE STATE").
  EXPECT_EQ(take(nbd_get_uri(h.get())), "nbd+unix:///?socket=" + server.endpoint().unix_path);
  ASSERT_TRUE(poll_until(h.get(), [&] { return nbd_aio_is_connecting(h.get()) == 0; }));
  EXPECT_EQ(take(nbd_get_uri(h.get())), "nbd+unix:///?socket=" + server.endpoint().unix_path);
  ASSERT_EQ(nbd_shutdown(h.get(), 0), 0) << last_error();
  EXPECT_EQ(take(nbd_get_uri(h.get())), "nbd+unix:///?socket=" + server.endpoint().unix_path)
      << "after shutdown";
}

TEST(GetUri, NamesAVsockAddressEvenWhenTheConnectionFailed) {
  auto h = new_handle();
  nbd_aio_connect_vsock(h.get(), 1, 5);  // may fail at once: no vsock, or nothing on port 5
  EXPECT_EQ(nbd_aio_is_created(h.get()), 0);
  EXPECT_EQ(take(nbd_get_uri(h.get())), "nbd+vsock://1:5/");
}

// In option mode the export chosen later is the one named.
TEST(GetUri, FollowsTheExportNameChosenWhileNegotiating) {
  NbdkitServer server(nbdkit_on(Transport::UnixSocket));
  auto h = new_handle();
  ASSERT_EQ(nbd_set_opt_mode(h.get(), true), 0);
  ASSERT_EQ(nbd_connect_uri(h.get(), unix_uri(server, "/first").c_str()), 0) << last_error();
  ASSERT_EQ(nbd_aio_is_negotiating(h.get()), 1);
  ASSERT_EQ(nbd_set_export_name(h.get(), "second"), 0) << last_error();
  EXPECT_EQ(take(nbd_get_uri(h.get())), "nbd+unix:///second?socket=" + server.endpoint().unix_path);
  ASSERT_EQ(nbd_opt_go(h.get()), 0) << last_error();
  expect_usable(h.get());
}

// nbd_get_uri(3): "not enough information in the handle" -- a socket or a
// command has no address a URI can name.
TEST(GetUri, ConnectCommandHasNoUri) {
  auto h = connected_handle();
  EXPECT_EQ(nbd_get_uri(h.get()), nullptr);
  expect_error(ENOTSUP,
               "nbd_get_uri: the handle was connected through a socket or a command, which no NBD "
               "URI can name");
}

#endif

}  // namespace
}  // namespace nbdref::test
