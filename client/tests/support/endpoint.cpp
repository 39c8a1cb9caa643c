#include "support/endpoint.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace nbdref::test {

Endpoint Endpoint::unix_socket(std::string path) {
  // The kernel silently cannot bind a longer path, which would surface much
  // later as a server that never becomes ready.
  if (path.size() >= sizeof(sockaddr_un::sun_path)) {
    throw std::runtime_error("Unix socket path is longer than " +
                             std::to_string(sizeof(sockaddr_un::sun_path) - 1) +
                             " bytes (set TMPDIR to a shorter directory): " + path);
  }
  Endpoint e;
  e.unix_path = std::move(path);
  return e;
}

Endpoint Endpoint::tcp_loopback(std::uint16_t port) {
  Endpoint e;
  e.host = "127.0.0.1";
  e.port = std::to_string(port);
  return e;
}

std::string Endpoint::describe() const {
  if (is_unix()) return "unix:" + unix_path;
  return host + ":" + port;
}

transport::UniqueFd connect_to(const Endpoint& endpoint) {
  sockaddr_storage address{};
  socklen_t length = 0;
  if (endpoint.is_unix()) {
    auto* un = reinterpret_cast<sockaddr_un*>(&address);
    un->sun_family = AF_UNIX;
    std::memcpy(un->sun_path, endpoint.unix_path.c_str(), endpoint.unix_path.size() + 1);
    length = sizeof(sockaddr_un);
  } else {
    auto* in = reinterpret_cast<sockaddr_in*>(&address);
    in->sin_family = AF_INET;
    in->sin_port = htons(static_cast<std::uint16_t>(std::stoul(endpoint.port)));
    if (::inet_pton(AF_INET, endpoint.host.c_str(), &in->sin_addr) != 1) {
      throw std::runtime_error("not an IPv4 address: " + endpoint.host);
    }
    length = sizeof(sockaddr_in);
  }
  transport::UniqueFd fd(::socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), length) != 0) {
    throw std::runtime_error("cannot connect to " + endpoint.describe() + ": " +
                             std::strerror(errno));
  }
  return fd;
}

}  // namespace nbdref::test
