// The handle's TLS over a socket pair against a small in-process NBD server
// that speaks TLS with GnuTLS (PSK): what reaches the server encrypted, and
// how the session ends when the handle gives up on a broken server.
#include <gnutls/gnutls.h>
#include <gtest/gtest.h>
#include <libnbd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace nbdref::test {
namespace {

constexpr std::uint32_t OPT_STARTTLS = 5;
constexpr std::uint32_t OPT_EXTENDED_HEADERS = 11;
constexpr std::uint8_t KEY[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
constexpr const char* KEY_HEX = "0102030405060708090a0b0c0d0e0f10";

void put_be(std::vector<std::uint8_t>& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

std::uint64_t get_be(const std::uint8_t* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = v << 8 | p[i];
  return v;
}

bool read_all(int fd, std::uint8_t* p, std::size_t n) {
  while (n > 0) {
    const ssize_t r = ::read(fd, p, n);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

// Greets, acknowledges NBD_OPT_STARTTLS in plaintext, runs the TLS
// handshake, reads the first option under TLS and answers it with bytes
// that are no option reply; then waits for the client to end the session.
class TlsNbdServer {
 public:
  explicit TlsNbdServer(int fd) : fd_(fd), thread_([this] { run(); }) {}
  ~TlsNbdServer() { join(); }
  TlsNbdServer(const TlsNbdServer&) = delete;
  TlsNbdServer& operator=(const TlsNbdServer&) = delete;

  void join() {
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  }

  std::string failure;                 // what went wrong on the server's side
  std::uint32_t plaintext_option = 0;  // the option before TLS
  std::uint32_t first_tls_option = 0;  // the first option read through TLS
  int end_of_session = 1;              // gnutls_record_recv at the end: 0 = close_notify

 private:
  void run() {
    std::vector<std::uint8_t> out;
    put_be(out, 0x4e42444d41474943ULL, 8);  // NBDMAGIC
    put_be(out, 0x49484156454F5054ULL, 8);  // IHAVEOPT
    put_be(out, 3, 2);                      // FIXED_NEWSTYLE | NO_ZEROES
    (void)!::write(fd_, out.data(), out.size());
    std::uint8_t in[16];
    if (!read_all(fd_, in, 4) || !read_all(fd_, in, 16)) {
      failure = "the client sent no option";
      return;
    }
    plaintext_option = static_cast<std::uint32_t>(get_be(in + 8, 4));
    out.clear();
    put_be(out, 0x3e889045565a9ULL, 8);  // option reply magic
    put_be(out, plaintext_option, 4);
    put_be(out, 1, 4);  // NBD_REP_ACK
    put_be(out, 0, 4);
    (void)!::write(fd_, out.data(), out.size());

    gnutls_psk_server_credentials_t creds;
    gnutls_psk_allocate_server_credentials(&creds);
    gnutls_psk_set_server_credentials_function2(
        creds, [](gnutls_session_t, const gnutls_datum_t*, gnutls_datum_t* key) {
          key->data = static_cast<unsigned char*>(gnutls_malloc(sizeof KEY));
          std::copy(std::begin(KEY), std::end(KEY), key->data);
          key->size = sizeof KEY;
          return 0;
        });
    gnutls_session_t session;
    gnutls_init(&session, GNUTLS_SERVER);
    gnutls_priority_set_direct(session, "NORMAL:+ECDHE-PSK:+DHE-PSK:+PSK", nullptr);
    gnutls_credentials_set(session, GNUTLS_CRD_PSK, creds);
    gnutls_transport_set_int(session, fd_);
    int rc;
    do {
      rc = gnutls_handshake(session);
    } while (rc < 0 && !gnutls_error_is_fatal(rc));
    if (rc < 0) {
      failure = std::string("handshake: ") + gnutls_strerror(rc);
    } else {
      std::uint8_t header[16];
      std::size_t got = 0;
      while (got < sizeof header) {
        const auto n = gnutls_record_recv(session, header + got, sizeof header - got);
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
      }
      if (got == sizeof header)
        first_tls_option = static_cast<std::uint32_t>(get_be(header + 8, 4));
      const std::uint8_t junk[20] = {0xde, 0xad, 0xbe, 0xef};
      gnutls_record_send(session, junk, sizeof junk);
      std::uint8_t rest[4096];
      ssize_t n;
      do {
        n = gnutls_record_recv(session, rest, sizeof rest);
      } while (n > 0 || n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED);
      end_of_session = static_cast<int>(n);
    }
    gnutls_deinit(session);
    gnutls_psk_free_server_credentials(creds);
  }

  int fd_;
  std::thread thread_;
};

TEST(HandleTls, OptionsAfterStartTlsAreEncryptedAndAHardDisconnectSaysCloseNotify) {
  char dir[] = "/tmp/nbdref-handle-tls-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string keys = std::string(dir) + "/keys.psk";
  std::ofstream(keys) << "alice:" << KEY_HEX << "\n";

  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  TlsNbdServer server(sv[1]);
  nbd_handle* h = nbd_create();
  ASSERT_NE(h, nullptr);
  ASSERT_EQ(nbd_set_tls(h, LIBNBD_TLS_REQUIRE), 0) << nbd_get_error();
  ASSERT_EQ(nbd_set_tls_psk_file(h, keys.c_str()), 0);
  ASSERT_EQ(nbd_set_tls_username(h, "alice"), 0);
  EXPECT_EQ(nbd_connect_socket(h, sv[0]), -1);
  // The junk under TLS is the server's violation.
  EXPECT_EQ(nbd_get_errno(), EPROTO) << nbd_get_error();
  EXPECT_EQ(nbd_aio_is_dead(h), 1);
  server.join();
  EXPECT_EQ(server.failure, "");
  // C-TLS-010: STARTTLS first, in plaintext; C-TLS-008, C-TLS-020: the
  // stateful options come after, through TLS.
  EXPECT_EQ(server.plaintext_option, OPT_STARTTLS);
  EXPECT_EQ(server.first_tls_option, OPT_EXTENDED_HEADERS);
  // C-HS-005 (proto.md "Termination of the session during option
  // haggling"): the hard disconnect is preceded by TLS close_notify.
  EXPECT_EQ(server.end_of_session, 0) << gnutls_strerror(server.end_of_session);
  nbd_close(h);
  std::system((std::string("rm -rf '") + dir + "'").c_str());
}

}  // namespace
}  // namespace nbdref::test
