#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <optional>

#include "transport/connector.hpp"

namespace nbdref::transport {
namespace {

class UnixConnector final : public Connector {
 public:
  explicit UnixConnector(std::string path) : path_(std::move(path)) {}

  ConnectProgress step() override {
    if (!outcome_) outcome_ = attempt();
    return *outcome_;
  }
  int fd() const override { return socket_.get(); }
  UniqueFd take_socket() override { return std::move(socket_); }

  std::string describe() const override {
    // Abstract names start with (and may contain) NUL bytes, which a
    // message cannot carry; '@' is how ss(8) and others print them.
    std::string shown = path_;
    std::replace(shown.begin(), shown.end(), '\0', '@');
    return "unix:" + shown;
  }

 private:
  ConnectProgress attempt() {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    const bool abstract = !path_.empty() && path_[0] == '\0';
    // A filesystem path needs room for its terminating NUL; an abstract name
    // is delimited by the address length alone, so it may use every byte.
    const std::size_t room = sizeof address.sun_path - (abstract ? 0 : 1);
    if (path_.empty()) return ConnectProgress::failed(EINVAL, "empty Unix socket path");
    if (!abstract && path_.find('\0') != std::string::npos) {
      // The kernel would silently stop at the NUL and connect elsewhere.
      return ConnectProgress::failed(EINVAL, describe() + ": the path contains a NUL byte");
    }
    if (path_.size() > room) {
      // Truncating would connect to a different socket.
      return ConnectProgress::failed(ENAMETOOLONG,
                                     describe() + ": the path is " + std::to_string(path_.size()) +
                                         " bytes, more than the " + std::to_string(room) +
                                         " a Unix socket address holds");
    }
    std::memcpy(address.sun_path, path_.data(), path_.size());
    const auto length =
        static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path_.size() + (abstract ? 0 : 1));

    UniqueFd socket(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!socket) {
      const int err = errno;
      return ConnectProgress::failed(err,
                                     with_strerror(describe() + ": cannot create socket", err));
    }
    // A Unix connect completes or fails at once, never EINPROGRESS. A full
    // listen backlog gives EAGAIN, which fails the connection as in libnbd.
    if (::connect(socket.get(), reinterpret_cast<const sockaddr*>(&address), length) == -1) {
      const int err = errno;
      return ConnectProgress::failed(err, with_strerror("cannot connect to " + describe(), err));
    }
    socket_ = std::move(socket);
    return ConnectProgress::connected();
  }

  std::string path_;
  UniqueFd socket_;
  std::optional<ConnectProgress> outcome_;
};

}  // namespace

std::unique_ptr<Connector> connect_unix(std::string path) {
  return std::make_unique<UnixConnector>(std::move(path));
}

}  // namespace nbdref::transport
