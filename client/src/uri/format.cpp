// Writing an NBD URI: every part percent-encoded as RFC 3986 asks (U-001),
// so that parse_nbd_uri reads the same model back.
#include <arpa/inet.h>

#include <cerrno>
#include <charconv>
#include <utility>
#include <vector>

#include "uri/nbd_uri.hpp"
#include "uri/percent.hpp"

namespace nbdref::uri {
namespace {

tl::unexpected<Error> unwritable(const std::string& what) {
  return failure(EINVAL, "cannot write an NBD URI: " + what);
}

bool has_nul(std::string_view s) {
  return s.find('\0') != std::string_view::npos;
}

// What may stay literal besides the unreserved characters.
constexpr std::string_view SUB_DELIMS = "!$&'()*+,;=";
// A path segment's pchar set, and '/' between segments (RFC 3986 section 3.3).
constexpr std::string_view PATH_LITERAL = "!$&'()*+,;=:@/";
// In a query value: never '&', ';' or '=' (they split the query), nor '+'
// (which form decoders read as a space), nor '#'.
constexpr std::string_view QUERY_LITERAL = "!$'()*,:@/?";

// A host name stays as it is; an IPv6 address goes in brackets (U-011,
// uri.md "NBD URI authority"), its zone written "%25ZONE" (RFC 6874).
Result<std::string> write_host(const std::string& host) {
  if (host.empty()) return unwritable("a TCP URI needs a host");
  if (has_nul(host)) return unwritable("the host contains a NUL byte");
  if (host.find(':') == std::string::npos) return percent_encode(host, SUB_DELIMS);
  const auto percent = host.find('%');
  const std::string address = host.substr(0, percent);
  in6_addr unused{};
  if (inet_pton(AF_INET6, address.c_str(), &unused) != 1) {
    return unwritable("host '" + host + "' holds ':' but is not an IPv6 address");
  }
  std::string out = "[" + address;
  if (percent != std::string::npos) out += "%25" + percent_encode(host.substr(percent + 1), "");
  return out + "]";
}

Result<std::uint32_t> tcp_port(const std::string& port) {
  std::uint32_t value = 0;
  const char* end = port.data() + port.size();
  const auto [ptr, ec] = std::from_chars(port.data(), end, value);
  if (port.empty() || ec != std::errc{} || ptr != end || value == 0 || value > 65535) {
    return unwritable("port '" + port +
                      "' is not a number from 1 to 65535 (a URI has no "
                      "service names)");
  }
  return value;
}

}  // namespace

Result<std::string> format_nbd_uri(const NbdUri& uri) {
  std::string out = scheme(uri) + "://";
  if (uri.tls_username && !uri.tls_username->empty()) {
    if (has_nul(*uri.tls_username)) return unwritable("the TLS username contains a NUL byte");
    // ':' is encoded: a literal one would start a password.
    out += percent_encode(*uri.tls_username, SUB_DELIMS) + "@";
  }

  std::vector<std::pair<std::string_view, std::string>> query;
  switch (uri.transport) {
    case Transport::Tcp: {
      auto host = write_host(uri.host);
      if (!host) return tl::unexpected(host.error());
      auto port = tcp_port(uri.port);
      if (!port) return tl::unexpected(port.error());
      out += *host;
      // U-012 (uri.md "NBD URI authority"): 10809 goes without saying.
      if (*port != DEFAULT_PORT) out += ":" + std::to_string(*port);
      break;
    }
    case Transport::Unix:
      // U-004, U-009 (uri.md "NBD URI scheme", "NBD URI authority"): no
      // authority, the socket in the query; U-015: a leading NUL as %00.
      if (uri.socket.empty()) return unwritable("a Unix socket URI needs a socket path");
      if (uri.socket[0] != '\0' && has_nul(uri.socket)) {
        return unwritable("the socket path contains a NUL byte");
      }
      query.emplace_back("socket", uri.socket);
      break;
    case Transport::Vsock:
      out += std::to_string(uri.vsock_cid);
      if (uri.vsock_port != DEFAULT_PORT) out += ":" + std::to_string(uri.vsock_port);
      break;
  }

  // U-014 (uri.md "NBD URI export name"): '/' and then the name.
  if (has_nul(uri.export_name)) return unwritable("the export name contains a NUL byte");
  out += "/" + percent_encode(uri.export_name, PATH_LITERAL);

  // U-016 (uri.md "NBD URI query parameters related to TLS").
  if (uri.tls_type) query.emplace_back("tls-type", std::string(tls_type_name(*uri.tls_type)));
  const std::pair<std::string_view, const std::optional<std::string>*> texts[] = {
      {"tls-hostname", &uri.tls_hostname},
      {"tls-certificates", &uri.tls_certificates},
      {"tls-psk-file", &uri.tls_psk_file},
  };
  for (const auto& entry : texts) {
    const std::optional<std::string>& value = *entry.second;
    if (!value) continue;
    if (value->empty() || has_nul(*value)) {
      return unwritable("the " + std::string(entry.first) + " value is empty or holds a NUL byte");
    }
    query.emplace_back(entry.first, *value);
  }
  if (uri.tls_verify_peer) query.emplace_back("tls-verify-peer", *uri.tls_verify_peer ? "1" : "0");

  char separator = '?';
  for (const auto& param : query) {
    out += separator;
    out += param.first;
    out += '=';
    out += percent_encode(param.second, QUERY_LITERAL);
    separator = '&';
  }
  return out;
}

}  // namespace nbdref::uri
