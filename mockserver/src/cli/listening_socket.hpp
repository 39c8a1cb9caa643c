// The socket nbdref-mock accepts clients on: a Unix socket, TCP on the
// loopback address, or the one systemd passed (LISTEN_FDS, fd 3).
#pragma once

#include <cstdint>
#include <string>

namespace nbdref::mock::cli {

class ListeningSocket {
 public:
  // Binds and listens; throws std::runtime_error naming what failed. The
  // Unix socket is bound under a temporary name and renamed to `path` once
  // listening, so a client that sees `path` can connect at once.
  static ListeningSocket unix_socket(const std::string& path);
  // 127.0.0.1:port; port 0 lets the system pick (see port()).
  static ListeningSocket tcp_loopback(std::uint16_t port);
  // The socket systemd passes when LISTEN_PID is this process and
  // LISTEN_FDS is at least 1.
  static bool systemd_passed_one();
  static ListeningSocket from_systemd();

  ListeningSocket(ListeningSocket&& other) noexcept;
  ListeningSocket& operator=(ListeningSocket&&) = delete;
  ~ListeningSocket();

  // The next client's connected socket (close-on-exec); throws on failure.
  int accept_client();
  std::uint16_t port() const { return port_; }

 private:
  ListeningSocket(int fd, std::string unlink_path, std::uint16_t port);

  int fd_;
  std::string unlink_path_;  // removed on destruction
  std::uint16_t port_;
};

}  // namespace nbdref::mock::cli
