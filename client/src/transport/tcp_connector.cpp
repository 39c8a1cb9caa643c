#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <optional>

#include "transport/connector.hpp"

namespace nbdref::transport {
namespace {

class TcpConnector final : public Connector {
 public:
  // Resolves host and port at the first step.
  TcpConnector(std::string host, std::string port)
      : target_(tcp_target(host, port)), host_(std::move(host)), port_(std::move(port)) {}
  TcpConnector(std::string target, std::vector<TcpAddress> addresses)
      : target_(std::move(target)), addresses_(std::move(addresses)), resolved_(true) {}

  ConnectProgress step() override {
    if (outcome_) return *outcome_;
    if (!resolved_) {
      resolved_ = true;
      auto resolved = resolve_tcp(host_, port_);
      if (!resolved) return settle({ConnectProgress::State::Failed, std::move(resolved.error())});
      addresses_ = std::move(*resolved);
    }
    if (socket_) {
      // The caller may step before the socket is writable; asking poll
      // without waiting keeps "not yet" from looking like success.
      pollfd ready{socket_.get(), POLLOUT, 0};
      if (::poll(&ready, 1, 0) <= 0) return ConnectProgress::in_progress();
      int err = 0;
      socklen_t length = sizeof err;
      if (::getsockopt(socket_.get(), SOL_SOCKET, SO_ERROR, &err, &length) == -1) err = errno;
      if (err == 0) return finish();
      socket_.reset();
      record(addresses_[next_ - 1], err);
    }
    return try_remaining();
  }

  int fd() const override { return socket_.get(); }

  UniqueFd take_socket() override {
    // Until then the socket may still be half-way through its handshake.
    if (!outcome_ || outcome_->state != ConnectProgress::State::Connected) return {};
    return std::move(socket_);
  }

  std::string describe() const override { return target_; }
  std::string host_name() const override { return host_; }

 private:
  static std::string tcp_target(const std::string& host, const std::string& port) {
    // Brackets keep an IPv6 literal's colons apart from the port's.
    const bool ipv6 = host.find(':') != std::string::npos;
    return "tcp:" + (ipv6 ? "[" + host + "]" : host) + ":" + nbd_service(port);
  }

  ConnectProgress try_remaining() {
    while (next_ < addresses_.size()) {
      const TcpAddress& address = addresses_[next_++];
      UniqueFd socket(::socket(address.storage.ss_family,
                               SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP));
      if (!socket) {
        record(address, errno);
        continue;
      }
      const auto* raw = reinterpret_cast<const sockaddr*>(&address.storage);
      if (::connect(socket.get(), raw, address.length) == 0) {
        socket_ = std::move(socket);
        return finish();
      }
      // An interrupted non-blocking connect carries on in the background,
      // exactly like one that reported EINPROGRESS.
      if (errno == EINPROGRESS || errno == EINTR) {
        socket_ = std::move(socket);
        return ConnectProgress::in_progress();
      }
      record(address, errno);
    }
    if (tried_.empty()) {
      return settle(ConnectProgress::failed(EINVAL, target_ + ": no address to try"));
    }
    return settle(ConnectProgress::failed(
        last_errno_, target_ + ": cannot connect to any address (" + tried_ + ")"));
  }

  ConnectProgress finish() {
    // B-GEN-001 (proto.md "Protocol phases"): requests and replies are small
    // and latency-bound, so Nagle's delay must not hold them back. Failing to
    // set it costs only speed, so the connection goes ahead regardless.
    const int on = 1;
    ::setsockopt(socket_.get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    return settle(ConnectProgress::connected());
  }

  void record(const TcpAddress& address, int err) {
    if (!tried_.empty()) tried_ += "; ";
    tried_ += with_strerror(address.text, err);
    last_errno_ = err;
  }

  ConnectProgress settle(ConnectProgress outcome) {
    outcome_ = outcome;
    return outcome;
  }

  std::string target_;
  std::string host_;
  std::string port_;
  std::vector<TcpAddress> addresses_;
  bool resolved_ = false;
  std::size_t next_ = 0;  // the next address to try
  UniqueFd socket_;       // the attempt in flight, then the connected socket
  std::string tried_;     // "address: error" for each failed attempt
  int last_errno_ = 0;
  std::optional<ConnectProgress> outcome_;
};

}  // namespace

std::unique_ptr<Connector> connect_tcp(std::string host, std::string port) {
  return std::make_unique<TcpConnector>(std::move(host), std::move(port));
}

std::unique_ptr<Connector> connect_tcp_addresses(std::string target,
                                                 std::vector<TcpAddress> addresses) {
  return std::make_unique<TcpConnector>(std::move(target), std::move(addresses));
}

}  // namespace nbdref::transport
