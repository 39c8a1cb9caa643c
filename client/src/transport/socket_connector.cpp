#include <sys/socket.h>

#include <cerrno>
#include <optional>

#include "transport/connector.hpp"

namespace nbdref::transport {
namespace {

class SocketConnector final : public Connector {
 public:
  explicit SocketConnector(int fd) : socket_(fd), number_(fd) {}

  ConnectProgress step() override {
    if (!outcome_) outcome_ = check();
    return *outcome_;
  }
  int fd() const override { return socket_.get(); }
  UniqueFd take_socket() override {
    if (!outcome_ || outcome_->state != ConnectProgress::State::Connected) return {};
    return std::move(socket_);
  }
  std::string describe() const override { return "socket: fd " + std::to_string(number_); }

 private:
  // The caller did the connecting; all that is left is to make sure the
  // descriptor is something the protocol can run over.
  ConnectProgress check() {
    int type = 0;
    socklen_t length = sizeof type;
    if (::getsockopt(socket_.get(), SOL_SOCKET, SO_TYPE, &type, &length) == -1) {
      const int err = errno;
      socket_.reset();
      return ConnectProgress::failed(err, with_strerror(describe() + " is not usable", err));
    }
    if (type != SOCK_STREAM) {
      socket_.reset();
      return ConnectProgress::failed(EINVAL, describe() + " is not a stream socket");
    }
    return ConnectProgress::connected();
  }

  UniqueFd socket_;
  int number_;  // kept for messages after the socket is handed over
  std::optional<ConnectProgress> outcome_;
};

}  // namespace

std::unique_ptr<Connector> connect_socket(int fd) {
  return std::make_unique<SocketConnector>(fd);
}

}  // namespace nbdref::transport
