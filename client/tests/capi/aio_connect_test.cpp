// Connecting, synchronously and asynchronously, by every method the C API
// offers (nbd_connect_*(3), nbd_aio_connect*(3)): each reaches the ready state,
// driven by nbd_poll or by the caller's own poll(2) loop built on
// nbd_aio_get_fd, nbd_aio_get_direction and nbd_aio_notify_read/write.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "capi_fixture.hpp"
#include "support/free_port.hpp"
#include "support/nbdkit_server.hpp"
#include "support/temp_dir.hpp"

namespace nbdref::test {
namespace {

constexpr int64_t kServerSize = int64_t{1} << 20;

NbdkitServer::Options nbdkit_on(Transport transport) {
  NbdkitServer::Options o;
  o.plugin_args = {"size=1M"};
  o.transport = transport;
  return o;
}

// After nbd_aio_connect*: the handle has left the created state; polling
// brings it to ready, where the export can be used.
void expect_reaches_ready(nbd_handle* h) {
  EXPECT_EQ(nbd_aio_is_created(h), 0);
  EXPECT_EQ(nbd_aio_is_dead(h), 0) << last_error();
  ASSERT_TRUE(poll_until(h, [&] { return nbd_aio_is_connecting(h) == 0; }))
      << "still connecting: " << nbd_connection_state(h);
  EXPECT_EQ(nbd_aio_is_ready(h), 1) << nbd_connection_state(h) << " " << last_error();
  EXPECT_EQ(nbd_get_size(h), kServerSize) << last_error();
  std::vector<char> buf(512, 1);
  EXPECT_EQ(nbd_pread(h, buf.data(), buf.size(), 0, 0), 0) << last_error();
}

TEST(AioConnect, CommandReachesReadyWithNbdPoll) {
  auto h = new_handle();
  ASSERT_EQ(aio_connect_nbdkit(h.get()), 0) << last_error();
  expect_reaches_ready(h.get());
}

TEST(AioConnect, UnixReachesReadyWithNbdPoll) {
  NbdkitServer server(nbdkit_on(Transport::UnixSocket));
  auto h = new_handle();
  ASSERT_EQ(nbd_aio_connect_unix(h.get(), server.endpoint().unix_path.c_str()), 0) << last_error();
  expect_reaches_ready(h.get());
}

TEST(AioConnect, TcpReachesReadyWithNbdPoll) {
  NbdkitServer server(nbdkit_on(Transport::Tcp));
  auto h = new_handle();
  ASSERT_EQ(
      nbd_aio_connect_tcp(h.get(), server.endpoint().host.c_str(), server.endpoint().port.c_str()),
      0)
      << last_error();
  expect_reaches_ready(h.get());
}

TEST(AioConnect, SocketReachesReadyWithNbdPoll) {
  NbdkitServer server(nbdkit_on(Transport::Tcp));
  auto h = new_handle();
  ASSERT_EQ(nbd_aio_connect_socket(h.get(), connect_to(server.endpoint()).release()), 0)
      << last_error();
  expect_reaches_ready(h.get());
}

TEST(AioConnect, SockaddrInReachesReadyWithNbdPoll) {
  NbdkitServer server(nbdkit_on(Transport::Tcp));
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(static_cast<uint16_t>(std::stoi(server.endpoint().port)));
  ASSERT_EQ(inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr), 1);
  auto h = new_handle();
  ASSERT_EQ(nbd_aio_connect(h.get(), reinterpret_cast<const sockaddr*>(&sin), sizeof sin), 0)
      << last_error();
  expect_reaches_ready(h.get());
}

TEST(AioConnect, SockaddrUnReachesReadyWithNbdPoll) {
  NbdkitServer server(nbdkit_on(Transport::UnixSocket));
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  const auto& path = server.endpoint().unix_path;
  ASSERT_LT(path.size(), sizeof sun.sun_path);
  std::memcpy(sun.sun_path, path.c_str(), path.size() + 1);
  auto h = new_handle();
  ASSERT_EQ(nbd_aio_connect(h.get(), reinterpret_cast<const sockaddr*>(&sun), sizeof sun), 0)
      << last_error();
  expect_reaches_ready(h.get());
}

// The caller's own loop: poll(2) on nbd_aio_get_fd for what
// nbd_aio_get_direction asks, then tell the handle what happened.
struct OwnLoop {
  nbd_handle* h;
  int notified_reads = 0;
  int notified_writes = 0;

  // One round; false when the handle has no descriptor any more.
  bool round(int timeout_ms) {
    const int fd = nbd_aio_get_fd(h);
    if (fd < 0) return false;
    const unsigned dir = nbd_aio_get_direction(h);
    EXPECT_EQ(dir & ~unsigned{LIBNBD_AIO_DIRECTION_BOTH}, 0u);
    pollfd p{fd, 0, 0};
    if (dir & LIBNBD_AIO_DIRECTION_READ) p.events |= POLLIN;
    if (dir & LIBNBD_AIO_DIRECTION_WRITE) p.events |= POLLOUT;
    if (::poll(&p, 1, timeout_ms) <= 0) return true;
    // Both ready: reading first, as nbd_aio_get_direction(3) recommends.
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      EXPECT_EQ(nbd_aio_notify_read(h), 0) << last_error();
      ++notified_reads;
    } else if (p.revents & POLLOUT) {
      EXPECT_EQ(nbd_aio_notify_write(h), 0) << last_error();
      ++notified_writes;
    }
    return true;
  }

  template <class Done>
  bool run_until(Done done) {
    const auto deadline = Clock::now() + kPollLimit;
    while (!done()) {
      if (Clock::now() > deadline || !round(100)) return done();
    }
    return true;
  }
};

TEST(AioConnect, OwnPollLoopDrivesHandshakeAndCommands) {
  auto h = new_handle();
  ASSERT_EQ(aio_connect_nbdkit(h.get(), {.plugin_args = {"16M"}}), 0) << last_error();
  OwnLoop loop{h.get()};
  ASSERT_TRUE(loop.run_until([&] { return nbd_aio_is_connecting(h.get()) == 0; }))
      << nbd_connection_state(h.get());
  ASSERT_EQ(nbd_aio_is_ready(h.get()), 1) << last_error();
  EXPECT_GE(loop.notified_reads, 1);  // the server's greeting at least

  // Far more than a socket buffer holds: the handle has to ask to write.
  const auto out = pattern(8 << 20, 3);
  std::vector<char> in(out.size());
  const int64_t w = nbd_aio_pwrite(h.get(), out.data(), out.size(), 4096, NBD_NULL_COMPLETION, 0);
  ASSERT_GE(w, 1) << last_error();
  EXPECT_NE(nbd_aio_get_direction(h.get()) & LIBNBD_AIO_DIRECTION_WRITE, 0u);
  int wr = 0;
  ASSERT_TRUE(loop.run_until([&] { return (wr = nbd_aio_command_completed(h.get(), w)) != 0; }));
  EXPECT_EQ(wr, 1) << last_error();
  const int64_t r = nbd_aio_pread(h.get(), in.data(), in.size(), 4096, NBD_NULL_COMPLETION, 0);
  ASSERT_GE(r, 1) << last_error();
  int rr = 0;
  ASSERT_TRUE(loop.run_until([&] { return (rr = nbd_aio_command_completed(h.get(), r)) != 0; }));
  EXPECT_EQ(rr, 1) << last_error();
  EXPECT_EQ(in, out);
  EXPECT_GE(loop.notified_writes, 1);
  // Nothing left to send: only reading is of interest.
  EXPECT_EQ(nbd_aio_get_direction(h.get()), unsigned{LIBNBD_AIO_DIRECTION_READ});
}

TEST(AioConnect, DirectionIsZeroWithoutAConnection) {
  auto h = new_handle();
  EXPECT_EQ(nbd_aio_get_direction(h.get()), 0u);
  EXPECT_EQ(nbd_aio_get_fd(h.get()), -1);
  ASSERT_EQ(connect_nbdkit(h.get()), 0) << last_error();
  EXPECT_GE(nbd_aio_get_fd(h.get()), 0) << last_error();
  ASSERT_EQ(nbd_shutdown(h.get(), 0), 0) << last_error();
  EXPECT_EQ(nbd_aio_get_direction(h.get()), 0u);
}

TEST(AioConnect, OnlyANewlyCreatedHandleConnects) {
  auto h = new_handle();
  ASSERT_EQ(aio_connect_nbdkit(h.get()), 0) << last_error();
  // Still connecting: a second connection is refused.
  EXPECT_EQ(aio_connect_nbdkit(h.get()), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  ASSERT_TRUE(poll_until(h.get(), [&] { return nbd_aio_is_ready(h.get()) == 1; }));
  EXPECT_EQ(nbd_aio_connect_unix(h.get(), "/nonexistent"), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_aio_is_ready(h.get()), 1);  // unharmed
}

TEST(AioConnect, NullArgumentsAreEfault) {
  auto h = new_handle();
  EXPECT_EQ(nbd_aio_connect(h.get(), nullptr, 0), -1);
  EXPECT_EQ(nbd_get_errno(), EFAULT);
  EXPECT_EQ(nbd_aio_connect_unix(h.get(), nullptr), -1);
  EXPECT_EQ(nbd_get_errno(), EFAULT);
  EXPECT_EQ(nbd_aio_connect_tcp(h.get(), nullptr, "10809"), -1);
  EXPECT_EQ(nbd_get_errno(), EFAULT);
  EXPECT_EQ(nbd_aio_connect_command(h.get(), nullptr), -1);
  EXPECT_EQ(nbd_get_errno(), EFAULT);
  EXPECT_EQ(nbd_aio_is_created(h.get()), 1);  // nothing was attempted
}

TEST(AioConnect, RefusedUnixConnectionEndsDead) {
  TempDir dir("nbdref-capi");
  auto h = new_handle();
  if (nbd_aio_connect_unix(h.get(), dir.file("nobody.sock").c_str()) == 0) {
    poll_until(h.get(), [&] { return nbd_aio_is_connecting(h.get()) == 0; });
  } else {
    EXPECT_EQ(nbd_get_errno(), ENOENT) << last_error();
  }
  EXPECT_EQ(nbd_aio_is_dead(h.get()), 1) << nbd_connection_state(h.get());
}

// ---- the synchronous forms ----

TEST(Connect, UnixReturnsReady) {
  NbdkitServer server(nbdkit_on(Transport::UnixSocket));
  auto h = new_handle();
  ASSERT_EQ(nbd_connect_unix(h.get(), server.endpoint().unix_path.c_str()), 0) << last_error();
  EXPECT_EQ(nbd_aio_is_ready(h.get()), 1);
  EXPECT_EQ(nbd_get_size(h.get()), kServerSize);
}

TEST(Connect, TcpReturnsReady) {
  NbdkitServer server(nbdkit_on(Transport::Tcp));
  auto h = new_handle();
  ASSERT_EQ(nbd_connect_tcp(h.get(), "127.0.0.1", server.endpoint().port.c_str()), 0)
      << last_error();
  EXPECT_EQ(nbd_aio_is_ready(h.get()), 1);
  EXPECT_EQ(nbd_get_size(h.get()), kServerSize);
}

TEST(Connect, TcpToAClosedPortFails) {
  auto h = new_handle();
  const auto port = std::to_string(pick_free_tcp_port());
  EXPECT_EQ(nbd_connect_tcp(h.get(), "127.0.0.1", port.c_str()), -1);
  EXPECT_EQ(nbd_get_errno(), ECONNREFUSED) << last_error();
  EXPECT_EQ(nbd_aio_is_dead(h.get()), 1);
}

TEST(Connect, SocketReturnsReady) {
  NbdkitServer server(nbdkit_on(Transport::UnixSocket));
  auto h = new_handle();
  ASSERT_EQ(nbd_connect_socket(h.get(), connect_to(server.endpoint()).release()), 0)
      << last_error();
  EXPECT_EQ(nbd_aio_is_ready(h.get()), 1);
  EXPECT_EQ(nbd_get_size(h.get()), kServerSize);
}

TEST(Connect, CommandReturnsReady) {
  auto h = new_handle();
  ASSERT_EQ(connect_nbdkit(h.get()), 0) << last_error();
  EXPECT_EQ(nbd_aio_is_ready(h.get()), 1);
  EXPECT_EQ(nbd_get_size(h.get()), kServerSize);
}

TEST(Connect, CommandThatIsNoServerFails) {
  auto h = new_handle();
  Argv argv({"true"});
  EXPECT_EQ(nbd_connect_command(h.get(), argv.get()), -1);
  EXPECT_NE(nbd_get_errno(), 0);
  EXPECT_EQ(nbd_aio_is_ready(h.get()), 0);
}

}  // namespace
}  // namespace nbdref::test
