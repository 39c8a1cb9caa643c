// TlsStream over one end of a socket pair, with a GnuTLS server (PSK, in a
// thread, blocking) on the other: the non-blocking handshake driven by the
// direction it reports, data both ways in amounts larger than the socket
// buffers, close_notify on shutdown, and the failures.
#include "tls/tls_stream.hpp"

#include <gnutls/gnutls.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <thread>
#include <utility>

#include "transport/socket_stream.hpp"

namespace nbdref::tls {
namespace {

using transport::IoStatus;

const std::vector<std::uint8_t> KEY = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

// What the server thread does once its handshake is done.
enum class Script { Echo, SendGarbage };

class PskServer {
 public:
  // `versions` is the server's choice of protocol versions, as a GnuTLS
  // priority string fragment.
  PskServer(int fd, std::vector<std::uint8_t> key, Script script, std::size_t echo_bytes = 0,
            std::string versions = "")
      : fd_(fd),
        key_(std::move(key)),
        script_(script),
        echo_bytes_(echo_bytes),
        priority_("NORMAL" + versions + ":+ECDHE-PSK:+DHE-PSK:+PSK") {
    thread_ = std::thread([this] { run(); });
  }
  ~PskServer() { join(); }
  PskServer(const PskServer&) = delete;
  PskServer& operator=(const PskServer&) = delete;

  // Waits for the server to finish (it ends when the client hangs up).
  void join() {
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  }
  // After join(): what gnutls_record_recv said after the echo, 0 for a
  // close_notify.
  int end_of_session() const { return end_; }

 private:
  void run() {
    if (script_ == Script::SendGarbage) {
      const char garbage[] = "IHAVEOPT, not a TLS record at all";
      (void)!::write(fd_, garbage, sizeof garbage);
      char sink[4096];
      while (::read(fd_, sink, sizeof sink) > 0) {
      }
      return;
    }
    gnutls_psk_server_credentials_t creds;
    gnutls_psk_allocate_server_credentials(&creds);
    gnutls_psk_set_server_credentials_function2(
        creds, [](gnutls_session_t s, const gnutls_datum_t*, gnutls_datum_t* key) {
          auto* self = static_cast<PskServer*>(gnutls_session_get_ptr(s));
          key->data = static_cast<unsigned char*>(gnutls_malloc(self->key_.size()));
          std::copy(self->key_.begin(), self->key_.end(), key->data);
          key->size = static_cast<unsigned>(self->key_.size());
          return 0;
        });
    gnutls_session_t session;
    gnutls_init(&session, GNUTLS_SERVER);
    gnutls_session_set_ptr(session, this);
    if (gnutls_priority_set_direct(session, priority_.c_str(), nullptr) < 0) {
      ADD_FAILURE() << "the server's GnuTLS refused " << priority_;
    }
    gnutls_credentials_set(session, GNUTLS_CRD_PSK, creds);
    gnutls_transport_set_int(session, fd_);
    int rc;
    do {
      rc = gnutls_handshake(session);
    } while (rc < 0 && !gnutls_error_is_fatal(rc));
    if (rc < 0) {
      gnutls_alert_send_appropriate(session, rc);
    } else {
      // Late to read, so that the client's writes fill the socket first.
      if (echo_bytes_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(200));
      std::vector<std::uint8_t> data;
      std::uint8_t buf[65536];
      while (data.size() < echo_bytes_) {
        const auto n = gnutls_record_recv(session, buf, sizeof buf);
        if (n <= 0) break;
        data.insert(data.end(), buf, buf + n);
      }
      std::size_t sent = 0;
      while (sent < data.size()) {
        const auto n = gnutls_record_send(session, data.data() + sent, data.size() - sent);
        if (n < 0) break;
        sent += static_cast<std::size_t>(n);
      }
      ssize_t n;
      do {
        n = gnutls_record_recv(session, buf, sizeof buf);
      } while (n > 0 || n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED);
      end_ = static_cast<int>(n);
    }
    ::shutdown(fd_, SHUT_WR);
    gnutls_deinit(session);
    gnutls_psk_free_server_credentials(creds);
  }

  int fd_;
  std::vector<std::uint8_t> key_;
  Script script_;
  std::size_t echo_bytes_;
  std::string priority_;
  std::atomic<int> end_{1};
  std::thread thread_;
};

struct Pair {
  int client = -1;
  int server = -1;
};

Pair socket_pair() {
  int sv[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  return {sv[0], sv[1]};
}

std::shared_ptr<const Credentials> client_credentials(const std::string& dir) {
  const std::string path = dir + "/keys.psk";
  std::ofstream(path) << "alice:0102030405060708090a0b0c0d0e0f10\n";
  TlsOptions o;
  o.psk_file = path;
  o.username = "alice";
  auto c = Credentials::load(o, [](const std::string&) {});
  EXPECT_TRUE(c) << c.error().message;
  return c ? *c : nullptr;
}

class TlsStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char name[] = "/tmp/nbdref-tls-stream-XXXXXX";
    ASSERT_NE(::mkdtemp(name), nullptr);
    dir_ = name;
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }

  std::unique_ptr<TlsStream> start(int fd) {
    std::unique_ptr<transport::Stream> plain =
        transport::make_socket_stream(transport::UniqueFd(fd));
    auto s = TlsStream::start(plain, client_credentials(dir_), {});
    EXPECT_TRUE(s) << s.error().message;
    return s ? std::move(*s) : nullptr;
  }

  // Drives the handshake by the direction it asks for, as the handle does.
  HandshakeProgress handshake(TlsStream& s) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
      auto p = s.handshake();
      if (p.state != HandshakeProgress::State::WouldBlock) return p;
      if (std::chrono::steady_clock::now() > deadline) return p;
      pollfd fd{s.fd(), static_cast<short>(p.wants_write ? POLLOUT : POLLIN), 0};
      ::poll(&fd, 1, 1000);
    }
  }

  std::string dir_;
};

TEST_F(TlsStreamTest, HandshakeThenLargeDataBothWaysThenCloseNotify) {
  constexpr std::size_t N = 3 << 20;  // far beyond what the socket buffers hold
  auto pair = socket_pair();
  PskServer server(pair.server, KEY, Script::Echo, N);
  auto s = start(pair.client);
  ASSERT_TRUE(s);
  const auto p = handshake(*s);
  ASSERT_EQ(p.state, HandshakeProgress::State::Done) << p.error.message;
  EXPECT_TRUE(s->established());
  EXPECT_NE(s->describe_session().find("TLS1."), std::string::npos) << s->describe_session();

  std::vector<std::uint8_t> out(N);
  for (std::size_t i = 0; i < N; ++i) out[i] = static_cast<std::uint8_t>(i * 31 + 7);
  std::vector<std::uint8_t> in;
  std::size_t sent = 0;
  bool saw_would_block = false;
  std::uint8_t buf[70000];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  // All of it out first (the server echoes only once it has everything),
  // then all of it back.
  while (in.size() < N && std::chrono::steady_clock::now() < deadline) {
    if (sent < N) {
      // Two segments, as the engine's queue offers them.
      const std::size_t rest = N - sent;
      const std::size_t first = std::min<std::size_t>(rest, 100);
      iovec segments[2] = {
          {out.data() + sent, first},
          {out.data() + sent + first, std::min<std::size_t>(rest - first, 200000)}};
      const auto r = s->write({segments, rest > first ? 2u : 1u});
      ASSERT_NE(r.status, IoStatus::Failed) << r.detail;
      if (r.status == IoStatus::Done) sent += r.bytes;
      if (r.status == IoStatus::WouldBlock) {
        saw_would_block = true;
        pollfd fd{s->fd(), POLLOUT, 0};
        ::poll(&fd, 1, 100);
      }
      continue;
    }
    const auto r = s->read(buf);
    ASSERT_NE(r.status, IoStatus::Failed) << r.detail;
    ASSERT_NE(r.status, IoStatus::Eof);
    if (r.status == IoStatus::Done) in.insert(in.end(), buf, buf + r.bytes);
    if (r.status == IoStatus::WouldBlock) {
      pollfd fd{s->fd(),
                static_cast<short>(POLLIN | (sent < N || s->needs_write_readiness() ? POLLOUT : 0)),
                0};
      ::poll(&fd, 1, 100);
    }
  }
  EXPECT_EQ(sent, N);
  EXPECT_TRUE(saw_would_block) << "the socket never filled up: the test proves less than it says";
  EXPECT_EQ(in, out);

  // C-TX-004: the server sees close_notify (a clean end, 0), not a
  // connection that just stopped (GNUTLS_E_PREMATURE_TERMINATION).
  s->shutdown();
  server.join();
  EXPECT_EQ(server.end_of_session(), 0) << gnutls_strerror(server.end_of_session());
}

// GnuTLS asks its transport for each record's header, then for its body; the
// stream reads ahead instead, so records that arrived together are taken in
// one read of the socket (and has_buffered_input() says so, as no poll would).
TEST_F(TlsStreamTest, RecordsThatArrivedTogetherAreReadAhead) {
  constexpr std::size_t N = 40000;  // echoed as three records: 16 KiB, 16 KiB, the rest
  auto pair = socket_pair();
  PskServer server(pair.server, KEY, Script::Echo, N);
  auto s = start(pair.client);
  ASSERT_TRUE(s);
  ASSERT_EQ(handshake(*s).state, HandshakeProgress::State::Done);
  std::vector<std::uint8_t> out(N);
  for (std::size_t i = 0; i < N; ++i) out[i] = static_cast<std::uint8_t>(i * 13 + 1);
  for (std::size_t sent = 0; sent < N;) {
    const iovec segment{out.data() + sent, N - sent};
    const auto r = s->write({&segment, 1});
    ASSERT_NE(r.status, IoStatus::Failed) << r.detail;
    if (r.status == IoStatus::Done) sent += r.bytes;
    pollfd fd{s->fd(), POLLOUT, 0};
    if (sent < N) ::poll(&fd, 1, 100);
  }
  pollfd readable{s->fd(), POLLIN, 0};
  ASSERT_EQ(::poll(&readable, 1, 10000), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the whole echo arrives
  std::vector<std::uint8_t> in(N);
  const auto first = s->read({in.data(), 16384});
  ASSERT_EQ(first.status, IoStatus::Done) << first.detail;
  ASSERT_EQ(first.bytes, 16384u);  // one whole record
  EXPECT_TRUE(s->has_buffered_input());
  std::size_t got = first.bytes;
  while (got < N && s->has_buffered_input()) {
    const auto r = s->read({in.data() + got, N - got});
    ASSERT_EQ(r.status, IoStatus::Done) << r.detail;
    got += r.bytes;
  }
  EXPECT_EQ(got, N) << "the rest of the echo came without another poll";
  EXPECT_EQ(in, out);
  s->shutdown();
}

TEST_F(TlsStreamTest, WithoutShutdownTheServerSeesNoCloseNotify) {
  auto pair = socket_pair();
  PskServer server(pair.server, KEY, Script::Echo, 0);
  auto s = start(pair.client);
  ASSERT_TRUE(s);
  ASSERT_EQ(handshake(*s).state, HandshakeProgress::State::Done);
  s.reset();  // the socket closes without a word
  server.join();
  EXPECT_EQ(server.end_of_session(), GNUTLS_E_PREMATURE_TERMINATION);
}

TEST_F(TlsStreamTest, AWrongKeyFailsTheHandshakeWithEacces) {
  auto pair = socket_pair();
  std::vector<std::uint8_t> other = KEY;
  other[0] ^= 0xff;
  PskServer server(pair.server, other, Script::Echo, 0);
  auto s = start(pair.client);
  ASSERT_TRUE(s);
  const auto p = handshake(*s);
  ASSERT_EQ(p.state, HandshakeProgress::State::Failed);
  EXPECT_EQ(p.error.errnum, EACCES) << p.error.message;
  EXPECT_NE(p.error.message.find("alert"), std::string::npos) << p.error.message;
  EXPECT_FALSE(s->established());
  // A failed session says no goodbye and takes no more data.
  const auto r = s->read(std::span<std::uint8_t>(std::vector<std::uint8_t>(16).data(), 16));
  EXPECT_EQ(r.status, IoStatus::Failed);
}

TEST_F(TlsStreamTest, PlaintextInsteadOfTlsFailsTheHandshakeWithEproto) {
  auto pair = socket_pair();
  PskServer server(pair.server, KEY, Script::SendGarbage);
  auto s = start(pair.client);
  ASSERT_TRUE(s);
  const auto p = handshake(*s);
  ASSERT_EQ(p.state, HandshakeProgress::State::Failed);
  EXPECT_EQ(p.error.errnum, EPROTO) << p.error.message;
  s.reset();
  server.join();
}

// C-TLS-016 (proto.md "TLS versions"): TLS 1.3 where the server has it.
TEST_F(TlsStreamTest, Tls13IsUsedWhenTheServerOffersIt) {
  auto pair = socket_pair();
  PskServer server(pair.server, KEY, Script::Echo);
  auto s = start(pair.client);
  ASSERT_TRUE(s);
  ASSERT_EQ(handshake(*s).state, HandshakeProgress::State::Done);
  EXPECT_NE(s->describe_session().find("(TLS1.3)"), std::string::npos) << s->describe_session();
  s->shutdown();
}

// C-TLS-015: TLS 1.2 is supported.
TEST_F(TlsStreamTest, Tls12WorksWithAServerLimitedToIt) {
  auto pair = socket_pair();
  PskServer server(pair.server, KEY, Script::Echo, 0, ":-VERS-ALL:+VERS-TLS1.2");
  auto s = start(pair.client);
  ASSERT_TRUE(s);
  const auto p = handshake(*s);
  ASSERT_EQ(p.state, HandshakeProgress::State::Done) << p.error.message;
  EXPECT_NE(s->describe_session().find("(TLS1.2)"), std::string::npos) << s->describe_session();
  s->shutdown();
}

// C-TLS-017: nothing older than 1.2 is accepted, whatever the server wants.
TEST_F(TlsStreamTest, OlderVersionsAreRefused) {
  auto pair = socket_pair();
  PskServer server(pair.server, KEY, Script::Echo, 0, ":-VERS-ALL:+VERS-TLS1.1:+VERS-TLS1.0");
  auto s = start(pair.client);
  ASSERT_TRUE(s);
  const auto p = handshake(*s);
  ASSERT_EQ(p.state, HandshakeProgress::State::Failed);
  EXPECT_FALSE(s->established());
  EXPECT_EQ(p.error.errnum, EPROTO) << p.error.message;
  EXPECT_NE(p.error.message.find("unsupported version"), std::string::npos) << p.error.message;
}

TEST_F(TlsStreamTest, AServerThatHangsUpEndsTheHandshake) {
  auto pair = socket_pair();
  ::close(pair.server);
  auto s = start(pair.client);
  ASSERT_TRUE(s);
  const auto p = handshake(*s);
  ASSERT_EQ(p.state, HandshakeProgress::State::Failed);
  // The ClientHello may meet the closed socket (EPIPE) or the reply the end
  // of the stream (ECONNRESET).
  EXPECT_TRUE(p.error.errnum == ECONNRESET || p.error.errnum == EPIPE) << p.error.message;
}

}  // namespace
}  // namespace nbdref::tls
