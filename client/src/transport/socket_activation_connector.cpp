#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <optional>

#include "transport/connector.hpp"
#include "transport/socket_activation.hpp"
#include "transport/socket_directory.hpp"

namespace nbdref::transport {
namespace {

class SocketActivationConnector final : public Connector {
 public:
  explicit SocketActivationConnector(std::vector<std::string> argv) : argv_(std::move(argv)) {}

  ConnectProgress step() override {
    if (!outcome_) outcome_ = activate();
    return *outcome_;
  }
  int fd() const override { return socket_.get(); }
  UniqueFd take_socket() override { return std::move(socket_); }
  std::unique_ptr<Subprocess> take_subprocess() override { return std::move(subprocess_); }

  std::string describe() const override {
    std::string text = "systemd socket activation:";
    for (const std::string& arg : argv_) text += " " + arg;
    return text;
  }

 private:
  ConnectProgress activate() {
    if (argv_.empty()) {
      return ConnectProgress::failed(EINVAL,
                                     "connect_systemd_socket_activation: the command is empty");
    }
    auto directory = SocketDirectory::create();
    if (!directory) {
      return failed({directory.error().errnum, describe() + ": " + directory.error().message});
    }
    const std::string socket_path = directory->socket_path();
    auto listener = listen_at(socket_path);
    if (!listener) return failed(std::move(listener.error()));

    auto pid = start_socket_activated(argv_, listener->get());
    if (!pid) return failed(std::move(pid.error()));
    subprocess_ = std::make_unique<Subprocess>(*pid, std::move(*directory));

    // The socket is listening already, so the kernel queues this connection
    // until the child gets round to accepting it: nothing to wait for here.
    auto client = connect_unix(socket_path);
    const ConnectProgress progress = client->step();
    if (progress.state != ConnectProgress::State::Connected) {
      subprocess_.reset();  // nobody could ever talk to it
      return progress;
    }
    socket_ = client->take_socket();
    return progress;
  }

  Result<UniqueFd> listen_at(const std::string& path) const {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    // SocketDirectory keeps the path short enough to fit with its NUL.
    path.copy(address.sun_path, sizeof address.sun_path - 1);
    UniqueFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!listener ||
        ::bind(listener.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == -1 ||
        ::listen(listener.get(), SOMAXCONN) == -1) {
      const int err = errno;
      return failure(err, with_strerror(describe() + ": cannot listen on " + path, err));
    }
    return listener;
  }

  static ConnectProgress failed(Error error) {
    return {ConnectProgress::State::Failed, std::move(error)};
  }

  std::vector<std::string> argv_;
  // Declared before socket_ so that, if nobody took them, the socket closes
  // first: the child sees end of stream before it is asked to terminate.
  std::unique_ptr<Subprocess> subprocess_;
  UniqueFd socket_;
  std::optional<ConnectProgress> outcome_;
};

}  // namespace

std::unique_ptr<Connector> connect_systemd_socket_activation(std::vector<std::string> argv) {
  return std::make_unique<SocketActivationConnector>(std::move(argv));
}

}  // namespace nbdref::transport
