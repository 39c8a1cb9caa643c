#include "target.hpp"

#include <utility>

#include "step_error.hpp"
#include "usage_error.hpp"

namespace nbdref::info {
namespace {

// The IANA port for NBD (proto.md "Protocol phases").
constexpr std::string_view kDefaultPort = "10809";

// HOST[:PORT], or [IPV6]:PORT / [IPV6]: the brackets are what tell an IPv6
// address's colons from the port separator.
Target parse_tcp(std::string_view spec) {
  Target t;
  t.kind = Target::Kind::Tcp;
  std::string_view rest;
  if (spec.starts_with('[')) {
    const auto close = spec.find(']');
    if (close == std::string_view::npos) {
      throw UsageError("--tcp " + std::string(spec) + ": missing ']' after the IPv6 address");
    }
    t.host = spec.substr(1, close - 1);
    rest = spec.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) {
      throw UsageError("--tcp " + std::string(spec) + ": expected ':PORT' after ']'");
    }
  } else {
    const auto colon = spec.find(':');
    if (colon != std::string_view::npos && spec.find(':', colon + 1) != std::string_view::npos) {
      throw UsageError("--tcp " + std::string(spec) +
                       ": put an IPv6 address in brackets, as in [::1]:10809");
    }
    t.host = spec.substr(0, colon);
    if (colon != std::string_view::npos) rest = spec.substr(colon);
  }
  if (t.host.empty()) throw UsageError("--tcp " + std::string(spec) + ": no host");
  if (rest == ":") throw UsageError("--tcp " + std::string(spec) + ": empty port");
  t.port = rest.empty() ? std::string(kDefaultPort) : std::string(rest.substr(1));
  return t;
}

}  // namespace

bool is_target_option(std::string_view option) {
  return option == "--unix" || option == "--tcp";
}

Target parse_target_option(std::string_view option, std::string_view value) {
  if (option == "--tcp") return parse_tcp(value);
  if (value.empty()) throw UsageError("--unix needs a socket path");
  Target t;
  t.kind = Target::Kind::UnixSocket;
  t.path = value;
  return t;
}

Target command_target(std::vector<std::string> command) {
  if (command.empty()) {
    throw UsageError("'--' must be followed by the command that runs the server");
  }
  Target t;
  t.kind = Target::Kind::Command;
  t.command = std::move(command);
  return t;
}

std::string describe(const Target& target) {
  switch (target.kind) {
    case Target::Kind::UnixSocket:
      return "unix socket " + target.path;
    case Target::Kind::Tcp: {
      const bool ipv6 = target.host.find(':') != std::string::npos;
      return "tcp " + (ipv6 ? "[" + target.host + "]" : target.host) + ":" + target.port;
    }
    case Target::Kind::Command: {
      std::string line = "command";
      for (const auto& word : target.command) line += " " + word;
      return line;
    }
  }
  return {};
}

void connect(Client& client, const Target& target) {
  while_doing("connecting to " + describe(target), [&] {
    switch (target.kind) {
      case Target::Kind::UnixSocket:
        client.connect_unix(target.path);
        return;
      case Target::Kind::Tcp:
        client.connect_tcp(target.host, target.port);
        return;
      case Target::Kind::Command:
        client.connect_command(target.command);
        return;
    }
  });
}

}  // namespace nbdref::info
