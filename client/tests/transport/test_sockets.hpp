// Sockets for the transport tests: loopback listeners, ports that refuse,
// and bounded loops that wait for a connector, an accept or some bytes.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "transport/connector.hpp"
#include "transport/stream.hpp"
#include "transport/unique_fd.hpp"

namespace nbdref::transport::test {

// Generous: nothing here waits on anything slower than the loopback.
constexpr int kWaitMs = 5000;

// A TCP socket bound to ip:port (port 0: a free one), or an empty UniqueFd
// when binding fails (the port is taken, or the address family is missing).
inline UniqueFd bind_tcp(const char* ip, std::uint16_t port) {
  sockaddr_storage storage{};
  socklen_t length = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (inet_pton(AF_INET, ip, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    length = sizeof *v4;
  } else if (inet_pton(AF_INET6, ip, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    length = sizeof *v6;
  } else {
    ADD_FAILURE() << "not an IP address: " << ip;
    return UniqueFd();
  }
  UniqueFd s(socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s || bind(s.get(), reinterpret_cast<sockaddr*>(&storage), length) == -1) return UniqueFd();
  return s;
}

// A listener on ip and a free port.
inline UniqueFd listen_tcp(const char* ip) {
  UniqueFd s = bind_tcp(ip, 0);
  EXPECT_TRUE(s) << "cannot bind " << ip << ": " << strerror(errno);
  EXPECT_EQ(listen(s.get(), 8), 0) << strerror(errno);
  return s;
}

inline std::uint16_t port_of(const sockaddr_storage& storage) {
  if (storage.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
}

// The port a TCP socket is bound to.
inline std::uint16_t local_port(int fd) {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length), 0) << strerror(errno);
  return port_of(storage);
}

// The port a TCP socket is connected to.
inline std::uint16_t peer_port(int fd) {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  EXPECT_EQ(getpeername(fd, reinterpret_cast<sockaddr*>(&storage), &length), 0) << strerror(errno);
  return port_of(storage);
}

// Whether ::1 exists here. Some machines have no IPv6 loopback; the tests
// that need it skip on them.
inline bool ipv6_loopback_available() {
  UniqueFd s(socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s) return false;
  sockaddr_in6 address{};
  address.sin6_family = AF_INET6;
  address.sin6_addr = in6addr_loopback;
  return bind(s.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
}

// A listening Unix socket at `path` (a leading '\0' makes it abstract).
inline UniqueFd listen_unix(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.data(), path.size());
  const bool abstract = path[0] == '\0';
  const auto length =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + (abstract ? 0 : 1));
  UniqueFd s(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  EXPECT_EQ(bind(s.get(), reinterpret_cast<sockaddr*>(&address), length), 0) << strerror(errno);
  EXPECT_EQ(listen(s.get(), 8), 0) << strerror(errno);
  return s;
}

// Whether `events` happen on fd within kWaitMs.
inline bool wait_for(int fd, short events) {
  pollfd p{fd, events, 0};
  return poll(&p, 1, kWaitMs) == 1;
}

// The next connection on `listener`, waiting at most kWaitMs.
inline UniqueFd accept_within(int listener) {
  if (!wait_for(listener, POLLIN)) {
    ADD_FAILURE() << "no connection arrived";
    return UniqueFd();
  }
  return UniqueFd(accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
}

// Steps `connector` until it stops being InProgress, polling for POLLOUT in
// between as the handle will; a connector still busy after kWaitMs fails the test.
inline ConnectProgress drive(Connector& connector) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kWaitMs);
  for (;;) {
    ConnectProgress progress = connector.step();
    if (progress.state != ConnectProgress::State::InProgress) return progress;
    if (std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << connector.describe() << " still connecting";
      return progress;
    }
    EXPECT_GE(connector.fd(), 0);
    wait_for(connector.fd(), POLLOUT);
  }
}

// Reads exactly n bytes from `stream`, waiting for POLLIN whenever it would
// block, however the bytes are split; stops early at Eof or Failed.
inline std::string read_exactly(Stream& stream, std::size_t n, std::size_t chunk = 4096) {
  std::string got;
  std::uint8_t buffer[4096];
  while (got.size() < n) {
    const std::size_t want = std::min({chunk, n - got.size(), sizeof buffer});
    const IoResult r = stream.read(std::span(buffer, want));
    if (r.status == IoStatus::Done) {
      got.append(reinterpret_cast<const char*>(buffer), r.bytes);
    } else if (r.status == IoStatus::WouldBlock) {
      if (!wait_for(stream.fd(), POLLIN)) {
        ADD_FAILURE() << "no bytes arrived after " << got.size() << " of " << n;
        break;
      }
    } else {
      ADD_FAILURE() << "stream ended after " << got.size() << " of " << n << " bytes";
      break;
    }
  }
  return got;
}

// Reads n bytes from a plain socket; fewer if it ends or stays silent for kWaitMs.
inline std::string recv_exactly(int fd, std::size_t n) {
  std::string got;
  char buffer[4096];
  while (got.size() < n && wait_for(fd, POLLIN)) {
    const ssize_t r = recv(fd, buffer, std::min(sizeof buffer, n - got.size()), 0);
    if (r <= 0) break;
    got.append(buffer, static_cast<std::size_t>(r));
  }
  return got;
}

// A gather-write segment over `s`, which must outlive it.
inline iovec segment(const std::string& s) {
  return iovec{const_cast<char*>(s.data()), s.size()};
}

}  // namespace nbdref::transport::test
