#include "support/free_port.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "transport/unique_fd.hpp"

namespace nbdref::test {

std::uint16_t pick_free_tcp_port() {
  transport::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), length) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    throw std::runtime_error(std::string("cannot pick a free port on 127.0.0.1: ") +
                             std::strerror(errno));
  }
  // Closed without listen or connect, the port is left in no TIME_WAIT state
  // and the server can bind it at once.
  return ntohs(address.sin_port);
}

bool reports_address_in_use(std::string_view server_output) {
  return server_output.find("Address already in use") != std::string_view::npos;
}

}  // namespace nbdref::test
