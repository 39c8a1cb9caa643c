// The real server nbdref-mock --relay forwards each client to: a Unix
// socket ("unix:PATH") or a TCP address ("HOST:PORT", "[IPV6]:PORT"),
// and the connecting, which gives a socket the relay can poll.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

#include "transport/unique_fd.hpp"

namespace nbdref::mock::relay {

struct RelayTarget {
  enum class Kind { Unix, Tcp };
  Kind kind = Kind::Unix;
  std::string path;  // Unix
  std::string host;  // Tcp, without brackets
  std::string port;  // Tcp
  std::string text;  // as written, for messages
};

// "unix:PATH", "HOST:PORT" or "[IPV6]:PORT"; otherwise a message saying
// what is wrong with `text`.
tl::expected<RelayTarget, std::string> parse_relay_target(std::string_view text);

// A connected, non-blocking socket to `target` within `limit`, or a message
// naming the target and why it could not be reached.
tl::expected<transport::UniqueFd, std::string> connect_target(const RelayTarget& target,
                                                              std::chrono::milliseconds limit);

}  // namespace nbdref::mock::relay
