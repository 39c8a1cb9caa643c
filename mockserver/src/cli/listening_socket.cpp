#include "listening_socket.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string_view>

namespace nbdref::mock::cli {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

constexpr int BACKLOG = 64;

}  // namespace

ListeningSocket::ListeningSocket(int fd, std::string unlink_path, std::uint16_t port)
    : fd_(fd), unlink_path_(std::move(unlink_path)), port_(port) {}

ListeningSocket::ListeningSocket(ListeningSocket&& other) noexcept
    : fd_(other.fd_), unlink_path_(std::move(other.unlink_path_)), port_(other.port_) {
  other.fd_ = -1;
  other.unlink_path_.clear();
}

ListeningSocket::~ListeningSocket() {
  if (fd_ >= 0) ::close(fd_);
  if (!unlink_path_.empty()) ::unlink(unlink_path_.c_str());
}

ListeningSocket ListeningSocket::unix_socket(const std::string& path) {
  const std::string temporary = path + ".binding";
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (temporary.size() >= sizeof addr.sun_path) {
    throw std::runtime_error("unix socket path too long: " + path);
  }
  std::memcpy(addr.sun_path, temporary.c_str(), temporary.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket");
  ::unlink(temporary.c_str());
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(fd, BACKLOG) != 0 || ::rename(temporary.c_str(), path.c_str()) != 0) {
    const int saved = errno;
    ::close(fd);
    ::unlink(temporary.c_str());
    errno = saved;
    fail("listening on " + path);
  }
  return ListeningSocket(fd, path, 0);
}

ListeningSocket ListeningSocket::tcp_loopback(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket");
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(fd, BACKLOG) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    fail("listening on 127.0.0.1:" + std::to_string(port));
  }
  return ListeningSocket(fd, "", ntohs(addr.sin_port));
}

bool ListeningSocket::systemd_passed_one() {
  // sd_listen_fds(3): the variables are meant for this very process.
  const char* pid = std::getenv("LISTEN_PID");
  const char* fds = std::getenv("LISTEN_FDS");
  if (!pid || !fds) return false;
  return std::string_view(pid) == std::to_string(::getpid()) && std::atoi(fds) >= 1;
}

ListeningSocket ListeningSocket::from_systemd() {
  constexpr int FIRST_PASSED_FD = 3;  // SD_LISTEN_FDS_START
  if (!systemd_passed_one()) throw std::runtime_error("no socket passed by systemd");
  ::fcntl(FIRST_PASSED_FD, F_SETFD, FD_CLOEXEC);
  // Not inherited by anything else we might start.
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
  return ListeningSocket(FIRST_PASSED_FD, "", 0);
}

int ListeningSocket::accept_client() {
  for (;;) {
    const int fd = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) return fd;
    if (errno != EINTR && errno != ECONNABORTED) fail("accept");
  }
}

}  // namespace nbdref::mock::cli
