#include "server_link.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

namespace nbdref::fuzz::recorder {

ServerLink::ServerLink(transport::UniqueFd socket) : socket_(std::move(socket)) {}

std::optional<std::vector<std::uint8_t>> ServerLink::receive(std::chrono::milliseconds quiet) {
  const auto deadline = std::chrono::steady_clock::now() + quiet;
  std::vector<std::uint8_t> buffer(64 * 1024);
  for (;;) {
    const ssize_t n = ::recv(socket_.get(), buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (n > 0) {
      buffer.resize(static_cast<std::size_t>(n));
      return buffer;
    }
    if (n == 0) return std::vector<std::uint8_t>{};
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      return std::vector<std::uint8_t>{};
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{socket_.get(), POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(left.count()));
  }
}

bool ServerLink::send(std::span<const std::uint8_t> bytes) {
  while (!bytes.empty()) {
    const ssize_t n =
        ::send(socket_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      bytes = bytes.subspan(static_cast<std::size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      pollfd p{socket_.get(), POLLOUT, 0};
      ::poll(&p, 1, 1000);
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace nbdref::fuzz::recorder
