#include <netinet/tcp.h>

#include <gtest/gtest.h>

#include <optional>

#include "test_sockets.hpp"
#include "transport/connector.hpp"
#include "transport/socket_stream.hpp"

namespace nbdref::transport {
namespace {

using State = ConnectProgress::State;
using test::accept_within;
using test::bind_tcp;
using test::drive;
using test::listen_tcp;
using test::local_port;
using test::peer_port;
using test::read_exactly;

std::vector<TcpAddress> addresses_of(const char* ip, std::uint16_t port) {
  auto addresses = resolve_tcp(ip, std::to_string(port));
  EXPECT_TRUE(addresses) << addresses.error().message;
  return addresses ? *addresses : std::vector<TcpAddress>{};
}

std::vector<TcpAddress> operator+(std::vector<TcpAddress> a, const std::vector<TcpAddress>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A bound socket that never listens: connections to its port are refused,
// and holding it keeps anyone else from listening there during the test.
UniqueFd refusing(const char* ip) {
  UniqueFd s = bind_tcp(ip, 0);
  EXPECT_TRUE(s) << strerror(errno);
  return s;
}

// One port number P with `v4` bound to 127.0.0.1:P and `v6` to [::1]:P
// (retrying on a collision with someone else's port).
struct SharedPort {
  explicit SharedPort(bool v4_listens) {
    for (int attempt = 0; attempt < 50 && !v6; ++attempt) {
      v4 = bind_tcp("127.0.0.1", 0);
      port = local_port(v4.get());
      v6 = bind_tcp("::1", port);
    }
    EXPECT_TRUE(v6) << "no port free on both 127.0.0.1 and ::1";
    if (v4_listens) {
      EXPECT_EQ(listen(v4.get(), 8), 0);
    }
  }
  UniqueFd v4;
  UniqueFd v6;
  std::uint16_t port = 0;
};

// Connects and checks that bytes arrive through a stream on the result.
void expect_connected_to(Connector& connector, int listener) {
  const ConnectProgress progress = drive(connector);
  ASSERT_EQ(progress.state, State::Connected) << progress.error.message;
  UniqueFd server = accept_within(listener);
  ASSERT_TRUE(server);
  auto stream = make_socket_stream(connector.take_socket());
  EXPECT_EQ(peer_port(stream->fd()), local_port(listener));
  ASSERT_EQ(send(server.get(), "ok", 2, 0), 2);
  EXPECT_EQ(read_exactly(*stream, 2), "ok");
}

TEST(TcpConnect, ConnectsToAnIpv4Listener) {
  UniqueFd listener = listen_tcp("127.0.0.1");
  const std::string port = std::to_string(local_port(listener.get()));
  auto connector = connect_tcp("127.0.0.1", port);
  EXPECT_EQ(connector->describe(), "tcp:127.0.0.1:" + port);
  expect_connected_to(*connector, listener.get());
}

// B-GEN-001 (proto.md "Protocol phases"): Nagle's algorithm is off.
TEST(TcpConnect, SetsTcpNodelay) {
  UniqueFd listener = listen_tcp("127.0.0.1");
  auto connector = connect_tcp("127.0.0.1", std::to_string(local_port(listener.get())));
  ASSERT_EQ(drive(*connector).state, State::Connected);
  UniqueFd socket = connector->take_socket();
  int value = 0;
  socklen_t length = sizeof value;
  ASSERT_EQ(getsockopt(socket.get(), IPPROTO_TCP, TCP_NODELAY, &value, &length), 0);
  EXPECT_NE(value, 0);
}

// C-HS-001 (proto.md "Newstyle negotiation"): with no port, the NBD port.
TEST(TcpConnect, EmptyPortTargetsPort10809) {
  auto connector = connect_tcp("127.0.0.1", "");
  EXPECT_EQ(connector->describe(), "tcp:127.0.0.1:10809");
  // Whether or not a server happens to listen there, the attempt names the port.
  const ConnectProgress progress = drive(*connector);
  if (progress.state == State::Connected) {
    EXPECT_EQ(peer_port(connector->take_socket().get()), 10809);
  } else {
    EXPECT_NE(progress.error.message.find("127.0.0.1:10809"), std::string::npos)
        << progress.error.message;
  }
}

TEST(TcpConnect, TriesTheNextAddressWhenOneRefuses) {
  UniqueFd closed = refusing("127.0.0.1");
  UniqueFd listener = listen_tcp("127.0.0.1");
  auto connector =
      connect_tcp_addresses("tcp:test", addresses_of("127.0.0.1", local_port(closed.get())) +
                                            addresses_of("127.0.0.1", local_port(listener.get())));
  expect_connected_to(*connector, listener.get());
}

TEST(TcpConnect, LocalhostConnectsWhenOnlyIpv4Listens) {
  // Wherever localhost also resolves to ::1, that address refuses: the
  // connector must move on to 127.0.0.1.
  std::optional<SharedPort> shared;
  UniqueFd listener;
  if (test::ipv6_loopback_available()) {
    shared.emplace(true);
    listener = std::move(shared->v4);
  } else {
    listener = listen_tcp("127.0.0.1");
  }
  auto connector = connect_tcp("localhost", std::to_string(local_port(listener.get())));
  expect_connected_to(*connector, listener.get());
}

TEST(TcpConnect, RefusedEverywhereFailsWithEconnrefusedListingEachAddress) {
  UniqueFd first = refusing("127.0.0.1");
  UniqueFd second = refusing("127.0.0.1");
  const std::string a = "127.0.0.1:" + std::to_string(local_port(first.get()));
  const std::string b = "127.0.0.1:" + std::to_string(local_port(second.get()));
  auto connector =
      connect_tcp_addresses("tcp:test", addresses_of("127.0.0.1", local_port(first.get())) +
                                            addresses_of("127.0.0.1", local_port(second.get())));
  const ConnectProgress progress = drive(*connector);
  ASSERT_EQ(progress.state, State::Failed);
  EXPECT_EQ(progress.error.errnum, ECONNREFUSED);
  EXPECT_NE(progress.error.message.find("tcp:test"), std::string::npos) << progress.error.message;
  EXPECT_NE(progress.error.message.find(a), std::string::npos) << progress.error.message;
  EXPECT_NE(progress.error.message.find(b), std::string::npos) << progress.error.message;
  EXPECT_EQ(connector->fd(), -1);
  EXPECT_FALSE(connector->take_socket());
  EXPECT_EQ(connector->step().state, State::Failed);  // the outcome stays put
}

TEST(TcpConnect, EmptyAddressListFailsWithEinval) {
  const ConnectProgress progress = connect_tcp_addresses("tcp:nowhere", {})->step();
  ASSERT_EQ(progress.state, State::Failed);
  EXPECT_EQ(progress.error.errnum, EINVAL);
}

TEST(TcpConnect, UnknownServiceFailsAtTheFirstStep) {
  auto connector = connect_tcp("127.0.0.1", "no-such-nbd-service");
  const ConnectProgress progress = connector->step();
  ASSERT_EQ(progress.state, State::Failed);
  EXPECT_EQ(progress.error.errnum, EINVAL);
  EXPECT_EQ(connector->fd(), -1);
}

// Needs ::1, which some machines lack.
class TcpConnectIpv6 : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!test::ipv6_loopback_available()) GTEST_SKIP() << "this machine has no IPv6 loopback (::1)";
  }
};

TEST_F(TcpConnectIpv6, ConnectsToAnIpv6Listener) {
  UniqueFd listener = listen_tcp("::1");
  const std::string port = std::to_string(local_port(listener.get()));
  auto connector = connect_tcp("::1", port);
  EXPECT_EQ(connector->describe(), "tcp:[::1]:" + port);
  expect_connected_to(*connector, listener.get());
}

TEST_F(TcpConnectIpv6, FallsBackFromARefusingIpv6AddressToIpv4) {
  SharedPort shared(true);
  auto connector = connect_tcp_addresses(
      "tcp:localhost", addresses_of("::1", shared.port) + addresses_of("127.0.0.1", shared.port));
  expect_connected_to(*connector, shared.v4.get());
}

TEST_F(TcpConnectIpv6, RefusedOnBothFamiliesListsBothAddresses) {
  SharedPort shared(false);
  const std::string port = std::to_string(shared.port);
  auto connector = connect_tcp_addresses(
      "tcp:localhost", addresses_of("::1", shared.port) + addresses_of("127.0.0.1", shared.port));
  const ConnectProgress progress = drive(*connector);
  ASSERT_EQ(progress.state, State::Failed);
  EXPECT_EQ(progress.error.errnum, ECONNREFUSED);
  EXPECT_NE(progress.error.message.find("[::1]:" + port), std::string::npos)
      << progress.error.message;
  EXPECT_NE(progress.error.message.find("127.0.0.1:" + port), std::string::npos)
      << progress.error.message;
}

}  // namespace
}  // namespace nbdref::transport
