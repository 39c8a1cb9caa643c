// nbdref-conform, the program, against the real servers of Debian 12 with
// TLS required (nbdkit --tls=require with certificates and with pre-shared
// keys, qemu-nbd with tls-creds-x509, nbd-server with force_tls) or offered
// (nbdkit --tls=on), each
// reached through an nbds URI carrying the client's credentials. The PKI is
// made at test time (client/tests/support/test_pki). Every connection of
// every check then negotiates TLS first, so the areas below run under TLS,
// and the tls.* checks judge STARTTLS, what comes before it, the versions
// and close_notify. Every area runs, as against a plaintext server, so that
// each check is seen to hold under TLS too. Each run is compared with the
// server's TLS expectation file: any difference, in either direction, fails
// the test.
#include <gtest/gtest.h>

#include "support/nbd_server_daemon.hpp"
#include "support/nbdkit_server.hpp"
#include "support/program_run.hpp"
#include "support/qemu_nbd_server.hpp"
#include "support/test_pki.hpp"
#include "uri/nbd_uri.hpp"

namespace nbdref::conform {
namespace {

using test::TestPki;
using test::Transport;

struct Credentials {
  std::optional<std::string> certificates_dir;
  std::optional<std::string> psk_file;
  std::optional<std::string> username;
};

Credentials certificates() {
  return {TestPki::get().client_dir, std::nullopt, std::nullopt};
}

Credentials psk() {
  return {std::nullopt, TestPki::get().psk_file, "alice"};
}

// An nbds URI for `endpoint`; over TCP the server's certificate must name
// "localhost", which the test PKI's server certificates do.
std::string tls_uri_of(const test::Endpoint& endpoint, const std::string& export_name,
                       const Credentials& credentials) {
  uri::NbdUri u;
  u.tls = true;
  if (endpoint.is_unix()) {
    u.transport = uri::Transport::Unix;
    u.socket = endpoint.unix_path;
  } else {
    u.host = "localhost";
    u.port = endpoint.port;
  }
  u.export_name = export_name;
  u.tls_certificates = credentials.certificates_dir;
  u.tls_psk_file = credentials.psk_file;
  u.tls_username = credentials.username;
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

test::NbdkitServer nbdkit(std::vector<std::string> tls_args) {
  test::NbdkitServer::Options o;
  o.extra_args = std::move(tls_args);
  return test::NbdkitServer(o);
}

TEST(TlsServers, NbdkitRequiringTlsWithCertificates) {
  auto server = nbdkit({"--tls=require", "--tls-certificates=" + TestPki::get().server_dir});
  expect_as_expected(tls_uri_of(server.endpoint(), "", certificates()), "nbdkit-memory-tls.txt");
}

TEST(TlsServers, NbdkitRequiringTlsWithPsk) {
  auto server = nbdkit({"--tls=require", "--tls-psk=" + TestPki::get().psk_file});
  expect_as_expected(tls_uri_of(server.endpoint(), "", psk()), "nbdkit-memory-tls.txt");
}

// --tls=on: TLS when the client asks, plaintext otherwise (SELECTIVETLS
// with no TLS-only export): what was negotiated before STARTTLS must be
// forgotten, and the export is served before TLS too.
TEST(TlsServers, NbdkitOfferingTls) {
  auto server = nbdkit({"--tls=on", "--tls-psk=" + TestPki::get().psk_file});
  expect_as_expected(tls_uri_of(server.endpoint(), "", psk()), "nbdkit-memory-tls.txt");
}

TEST(TlsServers, QemuNbdWithX509Credentials) {
  test::QemuNbdServer::Options o;
  o.transport = Transport::Tcp;
  // verify-peer is on by default for a server: it wants a client certificate.
  o.extra_args = {"--object",
                  "tls-creds-x509,id=tls0,dir=" + TestPki::get().server_dir + ",endpoint=server",
                  "--tls-creds", "tls0"};
  test::QemuNbdServer server(o);
  expect_as_expected(tls_uri_of(server.endpoint(), server.export_name(), certificates()),
                     "qemu-nbd-raw-tls.txt");
}

TEST(TlsServers, NbdServerForcingTls) {
  const TestPki& pki = TestPki::get();
  test::NbdServerDaemon::Options o;
  o.exports[0].trim = true;
  o.exports[0].flush = true;
  o.exports[0].fua = true;
  o.generic_lines = {"certfile = " + pki.server_cert, "keyfile = " + pki.server_key,
                     "cacertfile = " + pki.ca_cert, "force_tls = true"};
  test::NbdServerDaemon server(o);
  expect_as_expected(tls_uri_of(server.endpoint(), server.exports()[0].name, certificates()),
                     "nbd-server-file-tls.txt");
}

}  // namespace
}  // namespace nbdref::conform
