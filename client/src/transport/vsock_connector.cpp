#include <linux/vm_sockets.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <optional>

#include "transport/connector.hpp"

namespace nbdref::transport {
namespace {

class VsockConnector final : public Connector {
 public:
  VsockConnector(std::uint32_t cid, std::uint32_t port) : cid_(cid), port_(port) {}

  ConnectProgress step() override {
    if (outcome_) return *outcome_;
    if (!socket_) return start();
    // The caller may step before the socket is writable; asking poll
    // without waiting keeps "not yet" from looking like success.
    pollfd ready{socket_.get(), POLLOUT, 0};
    if (::poll(&ready, 1, 0) <= 0) return ConnectProgress::in_progress();
    int err = 0;
    socklen_t length = sizeof err;
    if (::getsockopt(socket_.get(), SOL_SOCKET, SO_ERROR, &err, &length) == -1) err = errno;
    if (err == 0) return settle(ConnectProgress::connected());
    return fail(err);
  }

  int fd() const override { return socket_.get(); }

  UniqueFd take_socket() override {
    // Until then the socket may still be half-way through connecting.
    if (!outcome_ || outcome_->state != ConnectProgress::State::Connected) return {};
    return std::move(socket_);
  }

  std::string describe() const override {
    return "vsock:" + std::to_string(cid_) + ":" + std::to_string(port_);
  }

 private:
  ConnectProgress start() {
    socket_.reset(::socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!socket_) {
      const int err = errno;
      const char* why = err == EAFNOSUPPORT ? " (this kernel has no vsock support)" : "";
      return settle(ConnectProgress::failed(
          err, with_strerror(describe() + ": cannot create socket" + why, err)));
    }
    sockaddr_vm address{};
    address.svm_family = AF_VSOCK;
    address.svm_cid = cid_;
    address.svm_port = port_;
    const auto* raw = reinterpret_cast<const sockaddr*>(&address);
    if (::connect(socket_.get(), raw, sizeof address) == 0) {
      return settle(ConnectProgress::connected());
    }
    if (errno == EINPROGRESS) return ConnectProgress::in_progress();
    return fail(errno);
  }

  ConnectProgress fail(int err) {
    socket_.reset();
    return settle(
        ConnectProgress::failed(err, with_strerror("cannot connect to " + describe(), err)));
  }

  ConnectProgress settle(ConnectProgress outcome) {
    outcome_ = outcome;
    return outcome;
  }

  std::uint32_t cid_;
  std::uint32_t port_;
  UniqueFd socket_;  // the attempt in flight, then the connected socket
  std::optional<ConnectProgress> outcome_;
};

}  // namespace

std::unique_ptr<Connector> connect_vsock(std::uint32_t cid, std::uint32_t port) {
  return std::make_unique<VsockConnector>(cid, port);
}

bool vsock_supported() {
  return static_cast<bool>(UniqueFd(::socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0)));
}

}  // namespace nbdref::transport
