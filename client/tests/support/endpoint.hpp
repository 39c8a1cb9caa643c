// Where a test server listens and how a client reaches it: a Unix socket path
// or a loopback TCP address.
#pragma once

#include <cstdint>
#include <string>

#include "transport/unique_fd.hpp"

namespace nbdref::test {

enum class Transport { UnixSocket, Tcp };

struct Endpoint {
  std::string unix_path;  // set for a Unix socket; then host and port are empty
  std::string host;       // "127.0.0.1" for TCP
  std::string port;       // decimal, as servers and URIs take it

  static Endpoint unix_socket(std::string path);
  static Endpoint tcp_loopback(std::uint16_t port);

  bool is_unix() const { return !unix_path.empty(); }
  // "unix:/tmp/nbdref-x/nbd.sock" or "127.0.0.1:10809", for messages.
  std::string describe() const;
};

// A blocking stream socket connected to `endpoint`. Throws std::runtime_error
// naming the endpoint when the connection is refused or the path is too long.
transport::UniqueFd connect_to(const Endpoint& endpoint);

}  // namespace nbdref::test
