#include "transport/tcp_address.hpp"

#include <netinet/in.h>

#include <gtest/gtest.h>

namespace nbdref::transport {
namespace {

std::uint16_t port_of(const TcpAddress& address) {
  return ntohs(reinterpret_cast<const sockaddr_in*>(&address.storage)->sin_port);
}

// C-HS-001 (proto.md "Newstyle negotiation"): 10809 unless told otherwise.
TEST(ResolveTcp, EmptyPortMeansTheIanaNbdPort) {
  EXPECT_EQ(nbd_service(""), "10809");
  const auto addresses = resolve_tcp("127.0.0.1", "");
  ASSERT_TRUE(addresses) << addresses.error().message;
  ASSERT_EQ(addresses->size(), 1u);
  EXPECT_EQ(port_of(addresses->front()), 10809);
  EXPECT_EQ(addresses->front().text, "127.0.0.1:10809");
}

TEST(ResolveTcp, ServiceNameNbdIsPort10809) {
  const auto addresses = resolve_tcp("127.0.0.1", "nbd");
  ASSERT_TRUE(addresses) << addresses.error().message;
  ASSERT_EQ(addresses->size(), 1u);
  EXPECT_EQ(port_of(addresses->front()), 10809);
}

TEST(ResolveTcp, NumericPortIsKept) {
  const auto addresses = resolve_tcp("127.0.0.1", "2049");
  ASSERT_TRUE(addresses) << addresses.error().message;
  EXPECT_EQ(addresses->front().text, "127.0.0.1:2049");
}

TEST(ResolveTcp, Ipv6AddressIsPrintedInBrackets) {
  // Resolving a literal needs no IPv6 on the machine, only connecting does.
  const auto addresses = resolve_tcp("::1", "10809");
  ASSERT_TRUE(addresses) << addresses.error().message;
  EXPECT_EQ(addresses->front().text, "[::1]:10809");
}

TEST(ResolveTcp, UnknownServiceFailsWithEinvalNamingIt) {
  const auto addresses = resolve_tcp("127.0.0.1", "no-such-nbd-service");
  ASSERT_FALSE(addresses);
  EXPECT_EQ(addresses.error().errnum, EINVAL);
  EXPECT_NE(addresses.error().message.find("no-such-nbd-service"), std::string::npos)
      << addresses.error().message;
}

}  // namespace
}  // namespace nbdref::transport
