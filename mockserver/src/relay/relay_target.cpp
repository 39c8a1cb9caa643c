#include "relay/relay_target.hpp"

#include <poll.h>

#include <cerrno>
#include <memory>

#include "transport/connector.hpp"

namespace nbdref::mock::relay {

tl::expected<RelayTarget, std::string> parse_relay_target(std::string_view text) {
  RelayTarget t;
  t.text = std::string(text);
  if (text.starts_with("unix:")) {
    t.kind = RelayTarget::Kind::Unix;
    t.path = std::string(text.substr(5));
    if (t.path.empty()) return tl::unexpected("'" + t.text + "': no socket path after unix:");
    return t;
  }
  t.kind = RelayTarget::Kind::Tcp;
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == text.size()) {
    return tl::unexpected("'" + t.text + "' is neither unix:PATH nor HOST:PORT");
  }
  std::string_view host = text.substr(0, colon);
  if (host.starts_with("[") && host.ends_with("]")) host = host.substr(1, host.size() - 2);
  if (host.empty()) return tl::unexpected("'" + t.text + "': no host before the port");
  t.host = std::string(host);
  t.port = std::string(text.substr(colon + 1));
  return t;
}

tl::expected<transport::UniqueFd, std::string> connect_target(const RelayTarget& target,
                                                              std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  std::unique_ptr<transport::Connector> connector =
      target.kind == RelayTarget::Kind::Unix ? transport::connect_unix(target.path)
                                             : transport::connect_tcp(target.host, target.port);
  for (;;) {
    const auto progress = connector->step();
    switch (progress.state) {
      case transport::ConnectProgress::State::Connected:
        return connector->take_socket();
      case transport::ConnectProgress::State::Failed:
        return tl::unexpected("cannot reach " + target.text + ": " + progress.error.message);
      case transport::ConnectProgress::State::InProgress:
        break;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return tl::unexpected("cannot reach " + target.text + ": timed out");
    pollfd p{connector->fd(), POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) < 0 && errno != EINTR) {
      return tl::unexpected("cannot reach " + target.text + ": poll failed");
    }
  }
}

}  // namespace nbdref::mock::relay
