#include "target.hpp"

#include <cctype>
#include <cerrno>
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

bool looks_like_uri(std::string_view word) {
  // A scheme (RFC 3986 section 3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" /
  // "." )) and "://", which a metadata context name ("base:allocation")
  // never has.
  const auto colon = word.find("://");
  if (colon == std::string_view::npos || colon == 0 ||
      !std::isalpha(static_cast<unsigned char>(word[0]))) {
    return false;
  }
  for (char c : word.substr(0, colon)) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
      return false;
    }
  }
  return true;
}

Target uri_target(std::string_view uri) {
  Target t;
  t.kind = Target::Kind::Uri;
  t.uri = uri;
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
    case Target::Kind::Uri:
      return target.uri;
  }
  return {};
}

namespace {

void connect_uri(Client& client, const Target& target) {
  // The URI is the person's own command line: it may name local files
  // (tls-certificates, tls-psk-file), which a library caller must allow.
  while_doing("setting up the client", [&] { client.set_uri_allow_local_file(true); });
  try {
    client.connect_uri(target.uri);
  } catch (const ClientError& e) {
    // Refused before any connection was tried: the URI itself is wrong.
    if (e.errnum() == EINVAL && client.is_created()) throw UsageError(e.what());
    throw StepError("connecting to " + describe(target), e);
  }
}

}  // namespace

void connect(Client& client, const Target& target) {
  if (target.kind == Target::Kind::Uri) {
    connect_uri(client, target);
    return;
  }
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
      case Target::Kind::Uri:
        return;  // above
    }
  });
}

}  // namespace nbdref::info
