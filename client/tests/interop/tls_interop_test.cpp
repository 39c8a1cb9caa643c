// TLS against real servers, through the C API (and once the C++ API):
// nbdkit (--tls=require / --tls=on, certificates and PSK), qemu-nbd
// (tls-creds-x509, tls-creds-psk) and nbd-server (certfile, keyfile,
// cacertfile, force_tls), over TCP and Unix sockets, with a PKI made at test
// time (support/test_pki.hpp). Every way TLS can fail is asserted with the
// error it must give; none of them may end in a connection in the clear.
#include <poll.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <libnbd.h>
#include <nbdref/client.hpp>

#include "support/nbd_server_daemon.hpp"
#include "support/nbdkit_server.hpp"
#include "support/qemu_nbd_server.hpp"
#include "support/test_pki.hpp"

namespace nbdref::test {
namespace {

struct HandleCloser {
  void operator()(nbd_handle* h) const { nbd_close(h); }
};
using HandlePtr = std::unique_ptr<nbd_handle, HandleCloser>;

const TestPki& pki() {
  return TestPki::get();
}

std::string last_error() {
  const char* e = nbd_get_error();
  return e ? e : "";
}

// How the client authenticates.
struct Credentials {
  int tls = LIBNBD_TLS_REQUIRE;
  std::string certificates;  // set_tls_certificates, if not empty
  std::string psk_file;      // set_tls_psk_file, if not empty
  std::string username;      // set_tls_username, if not empty
  bool verify_peer = true;
};

Credentials certificates(std::string dir) {
  return {LIBNBD_TLS_REQUIRE, std::move(dir), {}, {}, true};
}
Credentials psk(std::string file, std::string user = "alice") {
  return {LIBNBD_TLS_REQUIRE, {}, std::move(file), std::move(user), true};
}

HandlePtr tls_handle(const Credentials& c, const std::string& export_name = "") {
  HandlePtr h(nbd_create());
  EXPECT_NE(h, nullptr);
  EXPECT_EQ(nbd_set_tls(h.get(), c.tls), 0) << last_error();
  if (!c.certificates.empty()) {
    EXPECT_EQ(nbd_set_tls_certificates(h.get(), c.certificates.c_str()), 0);
  }
  if (!c.psk_file.empty()) {
    EXPECT_EQ(nbd_set_tls_psk_file(h.get(), c.psk_file.c_str()), 0);
  }
  if (!c.username.empty()) {
    EXPECT_EQ(nbd_set_tls_username(h.get(), c.username.c_str()), 0);
  }
  EXPECT_EQ(nbd_set_tls_verify_peer(h.get(), c.verify_peer), 0);
  if (!export_name.empty()) {
    EXPECT_EQ(nbd_set_export_name(h.get(), export_name.c_str()), 0);
  }
  return h;
}

// Connects to `e`; for TCP by `host` (the name the certificate is checked
// against), else by the address the server listens on.
int connect_to_server(nbd_handle* h, const Endpoint& e, const std::string& host = "") {
  if (e.is_unix()) return nbd_connect_unix(h, e.unix_path.c_str());
  return nbd_connect_tcp(h, host.empty() ? e.host.c_str() : host.c_str(), e.port.c_str());
}

// A write and a read back through the connection, then a clean shutdown.
void expect_data_flows(nbd_handle* h) {
  std::vector<char> out(64 * 1024), in(out.size());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<char>(i * 7 + 3);
  ASSERT_EQ(nbd_pwrite(h, out.data(), out.size(), 4096, 0), 0) << last_error();
  ASSERT_EQ(nbd_pread(h, in.data(), in.size(), 4096, 0), 0) << last_error();
  EXPECT_EQ(in, out);
  EXPECT_EQ(nbd_shutdown(h, 0), 0) << last_error();
  EXPECT_EQ(nbd_aio_is_closed(h), 1);
}

// The connection over TLS works both ways.
void expect_tls_session(nbd_handle* h, int rc) {
  ASSERT_EQ(rc, 0) << last_error();
  EXPECT_EQ(nbd_get_tls_negotiated(h), 1);
  expect_data_flows(h);
}

// Connecting failed with `errnum`, saying each of `words`, and left the
// handle dead (never ready: nothing went on in the clear).
void expect_refused(nbd_handle* h, int rc, int errnum, std::vector<std::string> words) {
  ASSERT_EQ(rc, -1) << "connected although it must not";
  const std::string e = last_error();
  EXPECT_EQ(nbd_get_errno(), errnum) << e;
  for (const auto& w : words)
    EXPECT_NE(e.find(w), std::string::npos) << "\"" << w << "\" not in: " << e;
  EXPECT_EQ(nbd_aio_is_dead(h), 1);
  EXPECT_EQ(nbd_aio_is_ready(h), 0);
}

NbdkitServer nbdkit(std::vector<std::string> tls_args, Transport transport) {
  NbdkitServer::Options o;
  o.extra_args = std::move(tls_args);
  o.transport = transport;
  o.plugin_args = {"size=1M"};
  return NbdkitServer(o);
}

NbdkitServer nbdkit_x509(const std::string& dir, Transport t, const char* mode = "--tls=require") {
  return nbdkit({mode, "--tls-certificates=" + dir}, t);
}

NbdkitServer nbdkit_psk(Transport t, const char* mode = "--tls=require") {
  return nbdkit({mode, "--tls-psk=" + pki().psk_file}, t);
}

// ---- nbdkit ----

TEST(TlsNbdkit, CertificatesOverTcpByHostName) {
  auto server = nbdkit_x509(pki().server_dir, Transport::Tcp);
  auto h = tls_handle(certificates(pki().client_dir));
  expect_tls_session(h.get(), connect_to_server(h.get(), server.endpoint(), "localhost"));
}

TEST(TlsNbdkit, CertificatesOverTcpByAddress) {
  // The certificate names 127.0.0.1 as an IP address, which is checked.
  auto server = nbdkit_x509(pki().server_dir, Transport::Tcp);
  auto h = tls_handle(certificates(pki().client_dir));
  expect_tls_session(h.get(), connect_to_server(h.get(), server.endpoint(), "127.0.0.1"));
}

TEST(TlsNbdkit, CertificatesOverUnixSocket) {
  // No host name on a Unix socket: the chain is verified against the CA.
  auto server = nbdkit_x509(pki().server_dir, Transport::UnixSocket);
  auto h = tls_handle(certificates(pki().ca_only_client_dir));
  expect_tls_session(h.get(), connect_to_server(h.get(), server.endpoint()));
}

TEST(TlsNbdkit, PskOverUnixSocket) {
  auto server = nbdkit_psk(Transport::UnixSocket);
  auto h = tls_handle(psk(pki().psk_file));
  expect_tls_session(h.get(), connect_to_server(h.get(), server.endpoint()));
}

TEST(TlsNbdkit, PskOverTcp) {
  auto server = nbdkit_psk(Transport::Tcp);
  auto h = tls_handle(psk(pki().psk_file));
  expect_tls_session(h.get(), connect_to_server(h.get(), server.endpoint()));
}

TEST(TlsNbdkit, PskUsernameDefaultsToLogname) {
  auto server = nbdkit_psk(Transport::UnixSocket);
  const char* old = std::getenv("LOGNAME");
  const std::string saved = old ? old : "";
  ::setenv("LOGNAME", "alice", 1);
  auto h = tls_handle(psk(pki().psk_file, ""));
  const int rc = connect_to_server(h.get(), server.endpoint());
  if (old) {
    ::setenv("LOGNAME", saved.c_str(), 1);
  } else {
    ::unsetenv("LOGNAME");
  }
  expect_tls_session(h.get(), rc);
}

// SELECTIVETLS-like (--tls=on): TLS when asked for, plaintext otherwise
// (C-TLS-003).
TEST(TlsNbdkit, OptionalTlsServerWithAllowNegotiatesTls) {
  auto server = nbdkit_psk(Transport::UnixSocket, "--tls=on");
  Credentials c = psk(pki().psk_file);
  c.tls = LIBNBD_TLS_ALLOW;
  auto h = tls_handle(c);
  expect_tls_session(h.get(), connect_to_server(h.get(), server.endpoint()));
}

TEST(TlsNbdkit, OptionalTlsServerWithoutTlsStaysInPlaintext) {
  auto server = nbdkit_psk(Transport::UnixSocket, "--tls=on");
  Credentials c;
  c.tls = LIBNBD_TLS_DISABLE;
  auto h = tls_handle(c);
  ASSERT_EQ(connect_to_server(h.get(), server.endpoint()), 0) << last_error();
  EXPECT_EQ(nbd_get_tls_negotiated(h.get()), 0);
  expect_data_flows(h.get());
}

// FORCEDTLS (--tls=require) and a client that did not ask for TLS: the
// server's NBD_REP_ERR_TLS_REQD ends it, and the message says what helps.
TEST(TlsNbdkit, ForcedTlsServerRefusesAPlaintextClient) {
  auto server = nbdkit_psk(Transport::UnixSocket);
  Credentials c;
  c.tls = LIBNBD_TLS_DISABLE;
  auto h = tls_handle(c);
  expect_refused(h.get(), connect_to_server(h.get(), server.endpoint()), ENOTSUP,
                 {"NBD_REP_ERR_TLS_REQD", "see set_tls"});
}

// ---- what must fail, and how ----

TEST(TlsNbdkit, ServerCertificateFromAnotherCaIsRefused) {
  auto server = nbdkit_x509(pki().server_dir, Transport::Tcp);
  auto h = tls_handle(certificates(pki().other_ca_client_dir));
  // C-TLS-012 (proto.md "Client-side requirements").
  expect_refused(
      h.get(), connect_to_server(h.get(), server.endpoint(), "localhost"), EACCES,
      {"TLS handshake", "does not verify for 'localhost'", "issuer is unknown", "[C-TLS-012]"});
}

TEST(TlsNbdkit, ExpiredServerCertificateIsRefused) {
  auto server = nbdkit_x509(pki().expired_server_dir, Transport::Tcp);
  auto h = tls_handle(certificates(pki().client_dir));
  expect_refused(h.get(), connect_to_server(h.get(), server.endpoint(), "localhost"), EACCES,
                 {"does not verify for 'localhost'", "expired", "[C-TLS-012]"});
}

TEST(TlsNbdkit, ServerCertificateForAnotherHostIsRefused) {
  auto server = nbdkit_x509(pki().wrong_host_server_dir, Transport::Tcp);
  auto h = tls_handle(certificates(pki().client_dir));
  expect_refused(h.get(), connect_to_server(h.get(), server.endpoint(), "localhost"), EACCES,
                 {"does not verify for 'localhost'", "does not match", "[C-TLS-012]"});
}

// set_tls_verify_peer(false): encrypted, but whoever the server is.
TEST(TlsNbdkit, WithoutPeerVerificationAnyCertificateIsAccepted) {
  auto server = nbdkit_x509(pki().wrong_host_server_dir, Transport::Tcp);
  Credentials c = certificates(pki().other_ca_client_dir);
  c.verify_peer = false;
  auto h = tls_handle(c);
  expect_tls_session(h.get(), connect_to_server(h.get(), server.endpoint(), "localhost"));
}

TEST(TlsNbdkit, WrongPreSharedKeyIsRefused) {
  auto server = nbdkit_psk(Transport::UnixSocket);
  auto h = tls_handle(psk(pki().wrong_key_psk_file));
  expect_refused(
      h.get(), connect_to_server(h.get(), server.endpoint()), ECONNRESET,
      {"the TLS handshake with unix:", "failed: the server closed the connection", "[C-TLS-012]"});
}

TEST(TlsNbdkit, UnknownPskUsernameIsRefused) {
  auto server = nbdkit_psk(Transport::UnixSocket);
  auto h = tls_handle(psk(pki().bob_psk_file, "bob"));
  expect_refused(h.get(), connect_to_server(h.get(), server.endpoint()), ECONNRESET,
                 {"the TLS handshake with unix:", "failed: the server closed the connection"});
}

TEST(TlsNbdkit, UsernameMissingFromThePskFileFailsBeforeConnecting) {
  auto server = nbdkit_psk(Transport::UnixSocket);
  auto h = tls_handle(psk(pki().psk_file, "carol"));
  expect_refused(h.get(), connect_to_server(h.get(), server.endpoint()), ENOENT,
                 {"has no key for TLS username 'carol'", pki().psk_file});
}

// libnbd's CVE-2019-14842: required TLS never turns into plaintext.
TEST(TlsNbdkit, RequiredTlsAgainstAPlaintextServerFails) {
  auto server = nbdkit({}, Transport::Tcp);
  auto h = tls_handle(psk(pki().psk_file));
  // C-TLS-011 (proto.md "Client-side requirements").
  expect_refused(h.get(), connect_to_server(h.get(), server.endpoint()), ENOTSUP,
                 {"the server refused NBD_OPT_STARTTLS", "TLS is required", "[C-TLS-011]"});
}

TEST(TlsNbdkit, AllowedTlsAgainstAPlaintextServerConnectsInTheClearAndSaysSo) {
  auto server = nbdkit({}, Transport::Tcp);
  Credentials c = psk(pki().psk_file);
  c.tls = LIBNBD_TLS_ALLOW;
  auto h = tls_handle(c);
  ASSERT_EQ(connect_to_server(h.get(), server.endpoint()), 0) << last_error();
  // C-TLS-009; nbd_get_tls_negotiated(3) is how the caller learns it.
  EXPECT_EQ(nbd_get_tls_negotiated(h.get()), 0);
  expect_data_flows(h.get());
}

// ---- option mode, the asynchronous API, shutting down ----

TEST(TlsNbdkit, OptStartTlsUpgradesOnceAndRenegotiates) {
  auto server = nbdkit_psk(Transport::UnixSocket, "--tls=on");
  Credentials c = psk(pki().psk_file);
  c.tls = LIBNBD_TLS_DISABLE;
  auto h = tls_handle(c);
  ASSERT_EQ(nbd_set_opt_mode(h.get(), true), 0);
  ASSERT_EQ(connect_to_server(h.get(), server.endpoint()), 0) << last_error();
  ASSERT_EQ(nbd_aio_is_negotiating(h.get()), 1);
  EXPECT_EQ(nbd_get_structured_replies_negotiated(h.get()), 1);  // in plaintext
  EXPECT_EQ(nbd_get_tls_negotiated(h.get()), 0);
  EXPECT_EQ(nbd_opt_starttls(h.get()), 1) << last_error();
  EXPECT_EQ(nbd_get_tls_negotiated(h.get()), 1);
  // C-SR-004: negotiated again under TLS (request_structured_replies is on).
  EXPECT_EQ(nbd_get_structured_replies_negotiated(h.get()), 1);
  // C-TLS-006: never twice.
  EXPECT_EQ(nbd_opt_starttls(h.get()), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL) << last_error();
  EXPECT_NE(last_error().find("[C-TLS-006]"), std::string::npos) << last_error();
  ASSERT_EQ(nbd_opt_go(h.get()), 0) << last_error();
  expect_data_flows(h.get());
}

// nbd_aio_get_direction(3) during the handshake names what GnuTLS waits
// for: a loop that only follows it completes the connection.
TEST(TlsNbdkit, AsyncConnectFollowingTheDirectionCompletesTheHandshake) {
  auto server = nbdkit_psk(Transport::UnixSocket);
  auto h = tls_handle(psk(pki().psk_file));
  ASSERT_EQ(nbd_aio_connect_unix(h.get(), server.endpoint().unix_path.c_str()), 0) << last_error();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (nbd_aio_is_connecting(h.get()) == 1) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the handshake did not finish";
    const unsigned dir = nbd_aio_get_direction(h.get());
    ASSERT_NE(dir, 0u) << "connecting, yet waiting for nothing";
    pollfd p{nbd_aio_get_fd(h.get()), 0, 0};
    if (dir & LIBNBD_AIO_DIRECTION_READ) p.events |= POLLIN;
    if (dir & LIBNBD_AIO_DIRECTION_WRITE) p.events |= POLLOUT;
    ASSERT_GE(::poll(&p, 1, 1000), 0);
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      ASSERT_EQ(nbd_aio_notify_read(h.get()), 0) << last_error();
    } else if (p.revents & POLLOUT) {
      ASSERT_EQ(nbd_aio_notify_write(h.get()), 0) << last_error();
    }
  }
  ASSERT_EQ(nbd_aio_is_ready(h.get()), 1) << last_error();
  EXPECT_EQ(nbd_get_tls_negotiated(h.get()), 1);
  expect_data_flows(h.get());
}

// C-TX-004 (proto.md "Terminating the transmission phase"): nbd_shutdown
// ends TLS with close_notify. nbdkit complains of every session that ends
// without one, which the abrupt nbd_close afterwards shows.
TEST(TlsNbdkit, ShutdownEndsTheTlsSessionCleanly) {
  auto server = nbdkit_psk(Transport::UnixSocket);
  {
    auto h = tls_handle(psk(pki().psk_file));
    ASSERT_EQ(connect_to_server(h.get(), server.endpoint()), 0) << last_error();
    ASSERT_EQ(nbd_shutdown(h.get(), 0), 0) << last_error();
  }
  {
    auto h = tls_handle(psk(pki().psk_file));
    ASSERT_EQ(connect_to_server(h.get(), server.endpoint()), 0) << last_error();
    // nbd_close (by the handle's deleter) hangs up without a word.
  }
  const std::string complaint = "non-properly terminated";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (server.output().find(complaint) == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    ::poll(nullptr, 0, 20);
  }
  const std::string log = server.output();
  const auto first = log.find(complaint);
  ASSERT_NE(first, std::string::npos) << "nbdkit never noticed the abrupt close:\n" << log;
  EXPECT_EQ(log.find(complaint, first + 1), std::string::npos)
      << "the clean shutdown was not clean either:\n"
      << log;
}

TEST(TlsNbdkit, CxxClientOverTls) {
  auto server = nbdkit_x509(pki().server_dir, Transport::Tcp);
  Client c;
  c.set_tls(Tls::Require);
  c.set_tls_certificates(pki().client_dir);
  c.connect_tcp("localhost", server.endpoint().port);
  EXPECT_TRUE(c.tls_negotiated());
  std::vector<std::byte> out(4096, std::byte{0x5a}), in(4096);
  c.pwrite(out, 0);
  c.pread(in, 0);
  EXPECT_EQ(in, out);
  c.shutdown();
  EXPECT_TRUE(c.is_closed());

  Client plain_only;
  plain_only.set_tls(Tls::Require);
  plain_only.set_tls_certificates(pki().other_ca_client_dir);
  try {
    plain_only.connect_tcp("localhost", server.endpoint().port);
    FAIL() << "a server certificate from an unknown CA was accepted";
  } catch (const ClientError& e) {
    EXPECT_EQ(e.errnum(), EACCES) << e.what();
  }
}

// ---- qemu-nbd ----

QemuNbdServer qemu_nbd(const std::string& object, Transport t) {
  QemuNbdServer::Options o;
  o.size = 1 << 20;
  o.transport = t;
  o.extra_args = {"--object", object, "--tls-creds", "tls0"};
  return QemuNbdServer(o);
}

QemuNbdServer qemu_x509(Transport t) {
  // verify-peer is on by default for a server: it wants a client certificate.
  return qemu_nbd("tls-creds-x509,id=tls0,dir=" + pki().server_dir + ",endpoint=server", t);
}

TEST(TlsQemuNbd, CertificatesOverTcp) {
  auto server = qemu_x509(Transport::Tcp);
  auto h = tls_handle(certificates(pki().client_dir), server.export_name());
  expect_tls_session(h.get(), connect_to_server(h.get(), server.endpoint(), "localhost"));
}

TEST(TlsQemuNbd, CertificatesOverUnixSocket) {
  auto server = qemu_x509(Transport::UnixSocket);
  auto h = tls_handle(certificates(pki().client_dir), server.export_name());
  expect_tls_session(h.get(), connect_to_server(h.get(), server.endpoint()));
}

QemuNbdServer qemu_psk(Transport t) {
  return qemu_nbd("tls-creds-psk,id=tls0,dir=" + pki().psk_dir + ",endpoint=server", t);
}

TEST(TlsQemuNbd, PskOverUnixSocket) {
  auto server = qemu_psk(Transport::UnixSocket);
  auto h = tls_handle(psk(pki().psk_file), server.export_name());
  expect_tls_session(h.get(), connect_to_server(h.get(), server.endpoint()));
}

TEST(TlsQemuNbd, WrongPreSharedKeyIsRefused) {
  auto server = qemu_psk(Transport::UnixSocket);
  auto h = tls_handle(psk(pki().wrong_key_psk_file), server.export_name());
  expect_refused(h.get(), connect_to_server(h.get(), server.endpoint()), ECONNRESET,
                 {"the TLS handshake with unix:", "[C-TLS-012]"});
}

// qemu-nbd wants a client certificate and, under TLS 1.3, hangs up only
// after the client's handshake is over: however that shows, it is one error.
TEST(TlsQemuNbd, MissingClientCertificateIsRefused) {
  auto server = qemu_x509(Transport::UnixSocket);
  auto h = tls_handle(certificates(pki().ca_only_client_dir), server.export_name());
  expect_refused(h.get(), connect_to_server(h.get(), server.endpoint()), ECONNRESET,
                 {"right after the TLS handshake", "credentials", "[C-TLS-012]"});
}

TEST(TlsQemuNbd, RequiredTlsAgainstAPlaintextQemuNbdFails) {
  QemuNbdServer::Options o;
  o.size = 1 << 20;
  QemuNbdServer server(o);
  auto h = tls_handle(certificates(pki().client_dir), server.export_name());
  expect_refused(h.get(), connect_to_server(h.get(), server.endpoint()), ENOTSUP,
                 {"the server refused NBD_OPT_STARTTLS", "TLS is required"});
}

// ---- nbd-server ----

NbdServerDaemon::Options nbd_server_tls(bool forced) {
  NbdServerDaemon::Options o;
  o.exports = {NbdServerDaemon::Export{"disk", 1 << 20}};
  o.generic_lines = {"certfile = " + pki().server_cert, "keyfile = " + pki().server_key,
                     "cacertfile = " + pki().ca_cert};
  if (forced) o.generic_lines.push_back("force_tls = true");
  return o;
}

TEST(TlsNbdServer, ForcedTlsWithCertificates) {
  NbdServerDaemon server(nbd_server_tls(true));
  auto h = tls_handle(certificates(pki().client_dir), "disk");
  expect_tls_session(h.get(), connect_to_server(h.get(), server.endpoint(), "localhost"));
}

TEST(TlsNbdServer, OptionalTlsWithAllowNegotiatesTls) {
  NbdServerDaemon server(nbd_server_tls(false));
  Credentials c = certificates(pki().client_dir);
  c.tls = LIBNBD_TLS_ALLOW;
  auto h = tls_handle(c, "disk");
  expect_tls_session(h.get(), connect_to_server(h.get(), server.endpoint(), "127.0.0.1"));
}

TEST(TlsNbdServer, ForcedTlsRefusesAPlaintextClient) {
  NbdServerDaemon server(nbd_server_tls(true));
  Credentials c;
  c.tls = LIBNBD_TLS_DISABLE;
  auto h = tls_handle(c, "disk");
  expect_refused(h.get(), connect_to_server(h.get(), server.endpoint()), ENOTSUP,
                 {"NBD_REP_ERR_TLS_REQD", "see set_tls"});
}

TEST(TlsNbdServer, ServerCertificateFromAnotherCaIsRefused) {
  NbdServerDaemon server(nbd_server_tls(true));
  auto h = tls_handle(certificates(pki().other_ca_client_dir), "disk");
  expect_refused(h.get(), connect_to_server(h.get(), server.endpoint(), "localhost"), EACCES,
                 {"does not verify for 'localhost'", "[C-TLS-012]"});
}

// ---- nbds URIs ----

// Connects by `uri`, which names certificate or key files: the handle has
// to be allowed to read local files (nbd_set_uri_allow_local_file(3)).
int connect_by_uri(nbd_handle* h, const std::string& uri) {
  EXPECT_EQ(nbd_set_uri_allow_local_file(h, true), 0) << last_error();
  return nbd_connect_uri(h, uri.c_str());
}

// "?socket=PATH&" for a Unix socket, "localhost:PORT/?" ... for TCP: the
// authority, path and start of the query of an nbds URI for `e`.
std::string nbds_uri(const Endpoint& e, const std::string& user, const std::string& export_name,
                     const std::string& parameter) {
  const std::string userinfo = user.empty() ? "" : user + "@";
  if (e.is_unix()) {
    return "nbds+unix://" + userinfo + "/" + export_name + "?socket=" + e.unix_path + "&" +
           parameter;
  }
  return "nbds://" + userinfo + "localhost:" + e.port + "/" + export_name + "?" + parameter;
}

// U-003, U-016 (uri.md "NBD URI scheme", "Query parameters related to
// TLS"): an nbds URI alone, with the certificates or the PSK file and
// username it names, gets a verified TLS session.
TEST(TlsUri, NbdsUnixWithCertificatesReachesNbdkit) {
  auto server = nbdkit_x509(pki().server_dir, Transport::UnixSocket);
  HandlePtr h(nbd_create());
  expect_tls_session(h.get(),
                     connect_by_uri(h.get(), nbds_uri(server.endpoint(), "", "",
                                                      "tls-certificates=" + pki().client_dir)));
}

TEST(TlsUri, NbdsTcpWithCertificatesReachesNbdkit) {
  auto server = nbdkit_x509(pki().server_dir, Transport::Tcp);
  HandlePtr h(nbd_create());
  expect_tls_session(h.get(),
                     connect_by_uri(h.get(), nbds_uri(server.endpoint(), "", "",
                                                      "tls-certificates=" + pki().client_dir)));
}

TEST(TlsUri, NbdsUnixWithPskReachesNbdkit) {
  auto server = nbdkit_psk(Transport::UnixSocket);
  HandlePtr h(nbd_create());
  expect_tls_session(h.get(), connect_by_uri(h.get(), nbds_uri(server.endpoint(), "alice", "",
                                                               "tls-psk-file=" + pki().psk_file)));
}

TEST(TlsUri, NbdsTcpWithPskReachesNbdkit) {
  auto server = nbdkit_psk(Transport::Tcp);
  HandlePtr h(nbd_create());
  expect_tls_session(h.get(), connect_by_uri(h.get(), nbds_uri(server.endpoint(), "alice", "",
                                                               "tls-psk-file=" + pki().psk_file)));
}

TEST(TlsUri, NbdsUnixWithCertificatesReachesQemuNbd) {
  auto server = qemu_x509(Transport::UnixSocket);
  HandlePtr h(nbd_create());
  expect_tls_session(h.get(),
                     connect_by_uri(h.get(), nbds_uri(server.endpoint(), "", server.export_name(),
                                                      "tls-certificates=" + pki().client_dir)));
}

TEST(TlsUri, NbdsTcpWithCertificatesReachesQemuNbd) {
  auto server = qemu_x509(Transport::Tcp);
  HandlePtr h(nbd_create());
  expect_tls_session(h.get(),
                     connect_by_uri(h.get(), nbds_uri(server.endpoint(), "", server.export_name(),
                                                      "tls-certificates=" + pki().client_dir)));
}

TEST(TlsUri, NbdsUnixWithPskReachesQemuNbd) {
  auto server = qemu_psk(Transport::UnixSocket);
  HandlePtr h(nbd_create());
  expect_tls_session(
      h.get(), connect_by_uri(h.get(), nbds_uri(server.endpoint(), "alice", server.export_name(),
                                                "tls-psk-file=" + pki().psk_file)));
}

TEST(TlsUri, NbdsTcpWithPskReachesQemuNbd) {
  auto server = qemu_psk(Transport::Tcp);
  HandlePtr h(nbd_create());
  expect_tls_session(
      h.get(), connect_by_uri(h.get(), nbds_uri(server.endpoint(), "alice", server.export_name(),
                                                "tls-psk-file=" + pki().psk_file)));
}

// U-003: an nbds URI against a server without TLS fails closed.
TEST(TlsUri, NbdsAgainstAPlaintextServerFails) {
  auto server = nbdkit({}, Transport::UnixSocket);
  HandlePtr h(nbd_create());
  expect_refused(h.get(),
                 connect_by_uri(h.get(), nbds_uri(server.endpoint(), "alice", "",
                                                  "tls-psk-file=" + pki().psk_file)),
                 ENOTSUP, {"NBD_OPT_STARTTLS", "C-TLS-011"});
}

}  // namespace
}  // namespace nbdref::test
