// The probe's TLS: a ByteChannel over one end of a socket pair starts TLS
// (PSK) against an in-process GnuTLS server on the other end, moves data
// larger than a TLS record both ways, and tells a session ended with
// close_notify from a bare close (S-TX-006); a handshake offering versions
// the server does not enable fails with the server's alert (S-TLS-028..030).
#include <gnutls/gnutls.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <thread>
#include <utility>

#include "probe/byte_channel.hpp"
#include "support/temp_dir.hpp"

namespace nbdref::conform {
namespace {

using namespace std::chrono_literals;

const std::vector<std::uint8_t> kKey = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

// How the server ends its session once it has echoed what it was sent.
enum class Ending { CloseNotify, BareClose };

// A blocking GnuTLS PSK server in a thread: handshake, echo `echo_bytes`
// bytes, then end as told. `versions` restricts its protocol versions.
class PskServer {
 public:
  PskServer(int fd, std::size_t echo_bytes, Ending ending, std::string versions = "")
      : fd_(fd), echo_bytes_(echo_bytes), ending_(ending), versions_(std::move(versions)) {
    thread_ = std::thread([this] { run(); });
  }
  ~PskServer() {
    thread_.join();
    ::close(fd_);
  }
  PskServer(const PskServer&) = delete;
  PskServer& operator=(const PskServer&) = delete;

 private:
  static int key_for(gnutls_session_t, const char* user, gnutls_datum_t* key) {
    if (std::string(user) != "alice") return -1;
    key->data = static_cast<unsigned char*>(gnutls_malloc(kKey.size()));
    std::copy(kKey.begin(), kKey.end(), key->data);
    key->size = static_cast<unsigned>(kKey.size());
    return 0;
  }

  void run() {
    gnutls_psk_server_credentials_t credentials = nullptr;
    gnutls_psk_allocate_server_credentials(&credentials);
    gnutls_psk_set_server_credentials_function(credentials, &PskServer::key_for);
    gnutls_session_t session = nullptr;
    gnutls_init(&session, GNUTLS_SERVER);
    const std::string priority = "NORMAL" + versions_ + ":+ECDHE-PSK:+DHE-PSK:+PSK";
    gnutls_priority_set_direct(session, priority.c_str(), nullptr);
    gnutls_credentials_set(session, GNUTLS_CRD_PSK, credentials);
    gnutls_transport_set_int(session, fd_);
    int rc = 0;
    do {
      rc = gnutls_handshake(session);
    } while (rc < 0 && !gnutls_error_is_fatal(rc));
    if (rc == 0) {
      std::vector<std::uint8_t> buffer(echo_bytes_);
      std::size_t got = 0;
      while (got < buffer.size()) {
        const ssize_t n = gnutls_record_recv(session, buffer.data() + got, buffer.size() - got);
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
      }
      std::size_t sent = 0;
      while (sent < got) {
        const ssize_t n = gnutls_record_send(session, buffer.data() + sent, got - sent);
        if (n <= 0) break;
        sent += static_cast<std::size_t>(n);
      }
      if (ending_ == Ending::CloseNotify) gnutls_bye(session, GNUTLS_SHUT_WR);
    }
    ::shutdown(fd_, SHUT_WR);
    gnutls_deinit(session);
    gnutls_psk_free_server_credentials(credentials);
  }

  int fd_;
  std::size_t echo_bytes_;
  Ending ending_;
  std::string versions_;
  std::thread thread_;
};

class TlsChannel : public ::testing::Test {
 protected:
  void SetUp() override {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    client_fd_ = transport::UniqueFd(fds[0]);
    server_fd_ = fds[1];
    const std::string keys = dir_.file("keys.psk");
    std::ofstream(keys) << "alice:0102030405060708090a0b0c0d0e0f10\n";
    options_.psk_file = keys;
    options_.username = "alice";
  }

  ByteChannel channel() {
    return ByteChannel::from_socket(std::move(client_fd_), "the test server", Deadline::after(10s),
                                    std::make_shared<Transcript>("test"));
  }

  test::TempDir dir_{"nbdref-tls-channel"};
  transport::UniqueFd client_fd_;
  int server_fd_ = -1;
  tls::TlsOptions options_;
};

std::vector<std::uint8_t> pattern(std::size_t n) {
  std::vector<std::uint8_t> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(i * 7 + (i >> 8));
  return out;
}

TEST_F(TlsChannel, CarriesDataLargerThanARecordAndSeesCloseNotify) {
  const auto data = pattern(100 * 1024 + 3);
  PskServer server(server_fd_, data.size(), Ending::CloseNotify);
  ByteChannel c = channel();
  ASSERT_TRUE(c.start_tls(options_, TlsVersions::Current).established());
  ASSERT_NE(c.tls(), nullptr);
  c.send(data, "data");
  EXPECT_EQ(c.receive(data.size(), "the echo"), data);
  const ByteChannel::CloseWait wait = c.await_close(5s);
  EXPECT_TRUE(wait.closed);
  EXPECT_TRUE(wait.close_notify);
  EXPECT_TRUE(wait.bytes.empty());
}

TEST_F(TlsChannel, ABareCloseIsNoCloseNotify) {
  const auto data = pattern(10);
  PskServer server(server_fd_, data.size(), Ending::BareClose);
  ByteChannel c = channel();
  ASSERT_TRUE(c.start_tls(options_, TlsVersions::Only12).established());
  c.send(data, "data");
  EXPECT_EQ(c.receive(data.size(), "the echo"), data);
  const ByteChannel::CloseWait wait = c.await_close(5s);
  EXPECT_TRUE(wait.closed);
  EXPECT_FALSE(wait.close_notify);
}

TEST_F(TlsChannel, VersionsTheServerDoesNotEnableEndInItsAlert) {
  PskServer server(server_fd_, 0, Ending::BareClose, ":-VERS-ALL:+VERS-TLS1.3");
  ByteChannel c = channel();
  const TlsHandshake h = c.start_tls(options_, TlsVersions::Legacy);
  EXPECT_FALSE(h.established());
  EXPECT_TRUE(h.ending == TlsHandshake::Ending::ServerAlert ||
              h.ending == TlsHandshake::Ending::ServerClosed)
      << h.why;
  EXPECT_EQ(c.tls(), nullptr);
}

}  // namespace
}  // namespace nbdref::conform
