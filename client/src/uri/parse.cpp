// Reading an NBD URI. The text is first checked byte by byte and its
// authority's port read here (so the common mistakes get a message naming
// them); libxml2 then splits the rest and checks it against RFC 3986; last,
// uri.md's rules are applied to the parts.
//
// libxml2 is asked for the parts as written (xmlParseURIReference with
// cleanup bit 2, which is xmlParseURI without its decoding step): decoding
// here is what lets a "%00" be refused instead of silently ending a C string.
#include <arpa/inet.h>
#include <libxml/uri.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <limits>
#include <memory>
#include <set>

#include "uri/nbd_uri.hpp"
#include "uri/percent.hpp"
#include "wire/limits.hpp"

namespace nbdref::uri {
namespace {

constexpr std::size_t npos = std::string_view::npos;

tl::unexpected<Error> invalid(const std::string& what) {
  return failure(EINVAL, "invalid NBD URI: " + what);
}

std::string quoted(std::string_view s) {
  return "'" + std::string(s) + "'";
}

bool is_hex(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) != 0;
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool all_digits(std::string_view s) {
  for (char c : s) {
    if (!is_digit(c)) return false;
  }
  return !s.empty();
}

// A byte of the input for a message: the input may hold anything.
std::string show_byte(char c) {
  static constexpr char HEX[] = "0123456789abcdef";
  const auto b = static_cast<unsigned char>(c);
  if (c == ' ') return "a space";
  if (b > 0x20 && b < 0x7f) return "character " + quoted(std::string(1, c));
  return std::string("byte 0x") + HEX[b >> 4] + HEX[b & 0x0f];
}

// U-001 (uri.md "Related standards"): only the characters RFC 3986 allows,
// and every '%' starting a two-digit hex escape. libxml2 would refuse these
// too, but without saying where.
Result<void> check_characters(std::string_view text) {
  static constexpr std::string_view GEN_DELIMS = ":/?#[]@";
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size() || !is_hex(text[i + 1]) || !is_hex(text[i + 2])) {
        return invalid("'%' at offset " + std::to_string(i) +
                       " does not start a percent-encoding (two hex digits must follow; write "
                       "'%' itself as %25)");
      }
      continue;
    }
    if (is_unreserved(c) || is_sub_delim(c) || GEN_DELIMS.find(c) != npos) continue;
    return invalid(show_byte(c) + " at offset " + std::to_string(i) +
                   " is not allowed in a URI (RFC 3986): percent-encode it as " +
                   percent_encode(std::string_view(&c, 1), ""));
  }
  return {};
}

struct SchemeInfo {
  std::string_view name;
  bool tls;
  Transport transport;
};

// U-002 (uri.md "NBD URI scheme"): nbd, nbds, nbd+unix and nbds+unix; the
// vsock pair as libnbd spells it (U-007: other schemes MAY be used).
constexpr SchemeInfo SCHEMES[] = {
    {"nbd", false, Transport::Tcp},         {"nbds", true, Transport::Tcp},
    {"nbd+unix", false, Transport::Unix},   {"nbds+unix", true, Transport::Unix},
    {"nbd+vsock", false, Transport::Vsock}, {"nbds+vsock", true, Transport::Vsock},
};
constexpr std::string_view SCHEME_LIST = "nbd, nbds, nbd+unix, nbds+unix, nbd+vsock or nbds+vsock";

// RFC 3986 section 3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
bool is_scheme_syntax(std::string_view s) {
  if (s.empty() || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
      return false;
    }
  }
  return true;
}

// The port of the authority, read here rather than by libxml2, which
// refuses an empty port (RFC 3986 allows one) and any port above INT_MAX (a
// vsock port may be up to 2^32-1).
struct PortSplit {
  bool given = false;     // the authority has ':PORT' (PORT possibly empty)
  std::string text;       // the digits
  std::size_t colon = 0;  // offset of ':' in the whole URI
};

Result<PortSplit> split_port(std::size_t authority_start, std::string_view authority) {
  const auto at = authority.rfind('@');
  const std::size_t host_start = at == npos ? 0 : at + 1;
  const std::string_view hostport = authority.substr(host_start);
  std::size_t colon = npos;
  if (hostport.starts_with('[')) {
    const auto close = hostport.find(']');
    if (close == npos) return invalid("'[' in the authority has no closing ']'");
    const std::string_view rest = hostport.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') {
        return invalid(quoted(rest) + " follows the bracketed address: only ':PORT' may");
      }
      colon = close + 1;
    }
  } else {
    colon = hostport.find(':');
    if (colon != npos && hostport.find(':', colon + 1) != npos) {
      // U-011 (uri.md "NBD URI authority"): IPv6 literals go in brackets.
      return invalid("host " + quoted(hostport) +
                     " has more than one ':': write an IPv6 address in brackets, as in "
                     "nbd://[::1]:10809/");
    }
  }
  PortSplit split;
  if (colon == npos) return split;
  split.given = true;
  split.text = std::string(hostport.substr(colon + 1));
  split.colon = authority_start + host_start + colon;
  if (!split.text.empty() && !all_digits(split.text)) {
    return invalid("port " + quoted(split.text) + " is not a decimal number");
  }
  return split;
}

template <class T>
std::optional<T> to_number(std::string_view digits) {
  T value{};
  const auto end = digits.data() + digits.size();
  const auto [ptr, ec] = std::from_chars(digits.data(), end, value);
  if (ec != std::errc{} || ptr != end) return std::nullopt;
  return value;
}

bool has_nul(std::string_view s) {
  return s.find('\0') != npos;
}

struct XmlUriFree {
  void operator()(xmlURI* u) const { xmlFreeURI(u); }
};

// One name=value pair of the query, as written and decoded.
struct Parameter {
  std::string raw_name;
  std::string name;
  std::string value;
};

// The query split at '&' (and ';', as libnbd also accepts); empty items are
// skipped and an item without '=' has the empty value.
Result<std::vector<Parameter>> split_query(std::string_view query) {
  std::vector<Parameter> params;
  while (!query.empty()) {
    const auto end = query.find_first_of("&;");
    const std::string_view item = query.substr(0, end);
    query = end == npos ? std::string_view() : query.substr(end + 1);
    if (item.empty()) continue;
    const auto eq = item.find('=');
    const std::string_view raw_name = item.substr(0, eq);
    if (raw_name.empty()) return invalid("the query parameter " + quoted(item) + " has no name");
    Parameter p;
    p.raw_name = raw_name;
    p.name = percent_decode(raw_name);
    if (eq != npos) p.value = percent_decode(item.substr(eq + 1));
    params.push_back(std::move(p));
  }
  return params;
}

// A parameter whose value is a non-empty string without NUL bytes.
Result<std::string> text_value(const Parameter& p) {
  if (p.value.empty()) return invalid("the " + p.raw_name + " parameter is empty");
  if (has_nul(p.value)) return invalid("the " + p.raw_name + " parameter contains a NUL byte");
  return p.value;
}

Result<void> apply_parameter(NbdUri& uri, const Parameter& p, bool& socket_seen) {
  if (p.name == "socket") {
    // U-015 (uri.md "NBD URI socket parameter"): a leading NUL (%00) names
    // the abstract namespace, where every byte counts; a filesystem path
    // cannot hold one.
    if (p.value.empty()) return invalid("the socket parameter is empty");
    if (p.value[0] != '\0' && has_nul(p.value)) {
      return invalid(
          "the socket parameter contains a NUL byte after its start (only a leading "
          "%00, naming the abstract namespace, is allowed)");
    }
    uri.socket = p.value;
    socket_seen = true;
  } else if (p.name == "tls-type") {
    // U-016 (uri.md "NBD URI query parameters related to TLS").
    if (p.value == "anon") {
      uri.tls_type = TlsType::Anon;
    } else if (p.value == "x509") {
      uri.tls_type = TlsType::X509;
    } else if (p.value == "psk") {
      uri.tls_type = TlsType::Psk;
    } else {
      return invalid("tls-type must be anon, x509 or psk");
    }
  } else if (p.name == "tls-hostname") {
    auto v = text_value(p);
    if (!v) return tl::unexpected(v.error());
    uri.tls_hostname = std::move(*v);
  } else if (p.name == "tls-verify-peer") {
    if (p.value != "0" && p.value != "1") return invalid("tls-verify-peer must be 0 or 1");
    uri.tls_verify_peer = p.value == "1";
  } else if (p.name == "tls-certificates") {
    auto v = text_value(p);
    if (!v) return tl::unexpected(v.error());
    uri.tls_certificates = std::move(*v);
  } else if (p.name == "tls-psk-file") {
    auto v = text_value(p);
    if (!v) return tl::unexpected(v.error());
    uri.tls_psk_file = std::move(*v);
  } else if (p.name.starts_with("x-")) {
    // U-018 (uri.md "Other NBD URI query parameters"): experimental
    // parameters carry the x- prefix; one this client does not know is
    // ignored, and named in ignored_parameters for the caller to report.
    uri.ignored_parameters.push_back(p.name);
  } else {
    // U-020 (uri.md "Other NBD URI query parameters"): any other parameter
    // this client does not understand is diagnosed -- as an error, since
    // widely used parameters carry no x- prefix (U-019) and ignoring one
    // would connect somewhere other than the URI meant.
    return invalid("unknown query parameter " + quoted(p.raw_name) +
                   " (known: socket, tls-type, tls-hostname, tls-verify-peer, tls-certificates, "
                   "tls-psk-file; experimental ones begin with x-)");
  }
  return {};
}

Result<void> apply_query(NbdUri& uri, const char* query_raw, bool& socket_seen) {
  if (!query_raw) return {};
  auto params = split_query(query_raw);
  if (!params) return tl::unexpected(params.error());
  std::set<std::string> seen;
  for (const Parameter& p : *params) {
    if (!p.name.starts_with("x-") && !seen.insert(p.name).second) {
      return invalid("the " + p.raw_name + " parameter appears more than once");
    }
    if (auto ok = apply_parameter(uri, p, socket_seen); !ok) return ok;
  }
  return {};
}

// The host as libxml2 split it (still percent-encoded): a bracketed IPv6
// literal loses its brackets, and a zone ("%25eth0", RFC 6874) is decoded.
Result<std::string> read_host(const char* raw) {
  const std::string_view host = raw ? raw : "";
  if (!host.starts_with('[')) {
    std::string decoded = percent_decode(host);
    if (has_nul(decoded)) return invalid("the host contains a NUL byte");
    // U-011 (uri.md "NBD URI authority"): only a bracketed literal holds
    // ':'; an encoded one ("a%3ab") would name no host a URI can write.
    if (decoded.find(':') != std::string::npos) {
      return invalid("host " + quoted(host) + " decodes to " + quoted(decoded) +
                     ", which holds ':': write an IPv6 address in brackets");
    }
    return decoded;
  }
  const std::string_view inner = host.substr(1, host.size() - 2);
  if (!inner.empty() && (inner[0] == 'v' || inner[0] == 'V')) {
    return invalid("the address " + quoted(host) +
                   " is an IPvFuture literal, which is not supported");
  }
  // U-011 (uri.md "NBD URI authority"): an RFC 2732 literal holds an IPv6
  // address, and a '%' in it can only start a zone, written "%25" and
  // something after it (RFC 6874).
  const std::size_t percent = inner.find('%');
  if (percent != std::string_view::npos &&
      (inner.substr(percent, 3) != "%25" || inner.size() == percent + 3)) {
    return invalid("in " + quoted(host) +
                   " a '%' can only start a zone, written %25 and the zone's name");
  }
  const std::string address(inner.substr(0, percent));
  in6_addr unused{};
  if (inet_pton(AF_INET6, address.c_str(), &unused) != 1) {
    return invalid(quoted(host) + " is not an IPv6 address");
  }
  std::string decoded = percent_decode(inner);
  if (has_nul(decoded)) return invalid("the host contains a NUL byte");
  return decoded;
}

}  // namespace

std::string scheme(const NbdUri& uri) {
  std::string s = uri.tls ? "nbds" : "nbd";
  if (uri.transport == Transport::Unix) s += "+unix";
  if (uri.transport == Transport::Vsock) s += "+vsock";
  return s;
}

std::string_view tls_type_name(TlsType type) {
  switch (type) {
    case TlsType::Anon:
      return "anon";
    case TlsType::X509:
      return "x509";
    case TlsType::Psk:
      return "psk";
  }
  return "?";
}

Result<NbdUri> parse_nbd_uri(std::string_view text) {
  if (text.empty()) return invalid("the URI is empty");
  if (auto ok = check_characters(text); !ok) return tl::unexpected(ok.error());

  // The scheme, compared without regard to case (RFC 3986 section 3.1).
  const auto colon = text.find(':');
  const std::string_view written_scheme = text.substr(0, colon);
  if (colon == npos || !is_scheme_syntax(written_scheme)) {
    return invalid(std::string("no scheme: an NBD URI begins with ") + std::string(SCHEME_LIST) +
                   " and then ://");
  }
  std::string lower(written_scheme);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const SchemeInfo* info = nullptr;
  for (const auto& s : SCHEMES) {
    if (s.name == lower) info = &s;
  }
  if (!info) {
    // U-007 (uri.md "NBD URI scheme"): other schemes need not be understood.
    return invalid("unknown scheme " + quoted(written_scheme) + ": an NBD URI uses " +
                   std::string(SCHEME_LIST));
  }
  // Only the scheme://[authority][/export][?query] form: an authority,
  // even an empty one, keeps the path absolute (uri.md "NBD URI export name").
  if (text.substr(colon + 1, 2) != "//") {
    return invalid(quoted(lower + ":") + " must be followed by '//', as in " + lower +
                   "://HOST/EXPORT");
  }

  const std::size_t authority_start = colon + 3;
  const auto authority_end = text.find_first_of("/?#", authority_start);
  const std::string_view authority =
      text.substr(authority_start, authority_end == npos ? npos : authority_end - authority_start);
  auto port = split_port(authority_start, authority);
  if (!port) return tl::unexpected(port.error());

  // libxml2 sees the URI without ":PORT".
  std::string for_libxml(text);
  if (port->given) for_libxml.erase(port->colon, 1 + port->text.size());
  std::unique_ptr<xmlURI, XmlUriFree> parsed(xmlCreateURI());
  if (!parsed) return failure(ENOMEM, "out of memory parsing an NBD URI");
  parsed->cleanup = 2;  // keep each part as written; decoded below
  if (xmlParseURIReference(parsed.get(), for_libxml.c_str()) != 0) {
    // U-001 (uri.md "Related standards").
    return invalid(
        "not a valid RFC 3986 URI (libxml2 could not parse it; look at the "
        "authority and any brackets)");
  }
  if (parsed->fragment) {
    return invalid(
        "a fragment ('#...') has no meaning in an NBD URI (write '#' in an export "
        "name as %23)");
  }

  NbdUri uri;
  uri.tls = info->tls;
  uri.transport = info->transport;

  // U-010, U-013 (uri.md "NBD URI authority"): the userinfo is the TLS
  // username; without one the TLS layer uses the local user's name.
  if (parsed->user && *parsed->user) {
    const std::string_view user = parsed->user;
    if (user.find(':') != npos) {
      return invalid(
          "the userinfo holds a ':': NBD URIs carry only a TLS username, never a "
          "password (RFC 3986 section 3.2.1; write ':' in a username as %3A)");
    }
    std::string name = percent_decode(user);
    if (has_nul(name)) return invalid("the username contains a NUL byte");
    uri.tls_username = std::move(name);
  }

  auto host = read_host(parsed->server);
  if (!host) return tl::unexpected(host.error());

  // U-014 (uri.md "NBD URI export name"): the path without its leading '/',
  // percent-decoded: "" and "/" give the empty name, "//disk" gives "/disk".
  const std::string_view path = parsed->path ? parsed->path : "";
  uri.export_name = percent_decode(path.empty() ? path : path.substr(1));
  if (has_nul(uri.export_name)) {
    return invalid("the export name contains a NUL byte (%00), which no NBD string may hold");
  }
  // C-GEN-003 (proto.md "Conventions"): no string on the wire exceeds 4096 bytes.
  if (uri.export_name.size() > wire::MAX_STRING_LENGTH) {
    return invalid("the export name is " + std::to_string(uri.export_name.size()) +
                   " bytes long, more than the protocol's 4096");
  }

  bool socket_seen = false;
  if (auto ok = apply_query(uri, parsed->query_raw, socket_seen); !ok) {
    return tl::unexpected(ok.error());
  }
  const std::string name = scheme(uri);

  switch (uri.transport) {
    case Transport::Tcp: {
      if (socket_seen) {
        return invalid("the socket parameter belongs to nbd+unix and nbds+unix URIs, not " + name);
      }
      // U-008 (uri.md "NBD URI authority"): what a TCP URI without a host
      // means is the client's choice; this one means localhost, as libnbd.
      if (!host->empty()) uri.host = std::move(*host);
      // U-012 (uri.md "NBD URI authority"): no port means 10809.
      if (!port->text.empty()) {
        const auto number = to_number<std::uint32_t>(port->text);
        if (!number || *number == 0 || *number > 65535) {
          return invalid("port " + port->text + " is not a TCP port (1 to 65535)");
        }
        uri.port = std::to_string(*number);
      }
      break;
    }
    case Transport::Unix:
      // U-009 (uri.md "NBD URI authority"): a Unix socket URI has no host
      // or port; one given is refused rather than silently ignored.
      if (!host->empty()) {
        return invalid("an " + name + " URI has no host (" + quoted(parsed->server) +
                       "): the socket parameter says where the server is");
      }
      if (port->given) return invalid("an " + name + " URI has no port");
      // U-004, U-006 (uri.md "NBD URI scheme"): the socket parameter is required.
      if (!socket_seen) {
        return invalid("an " + name +
                       " URI needs a socket parameter naming the Unix socket, as in " + name +
                       ":///EXPORT?socket=/run/nbd.sock");
      }
      break;
    case Transport::Vsock: {
      if (socket_seen) {
        return invalid("the socket parameter belongs to nbd+unix and nbds+unix URIs, not " + name);
      }
      if (!host->empty()) {
        const auto cid = all_digits(*host) ? to_number<std::uint32_t>(*host) : std::nullopt;
        if (!cid) {
          return invalid("vsock CID " + quoted(*host) + " is not a number from 0 to 4294967295");
        }
        uri.vsock_cid = *cid;
      }
      if (!port->text.empty()) {
        const auto number = to_number<std::uint32_t>(port->text);
        if (!number) {
          return invalid("vsock port " + port->text + " is not a number from 0 to 4294967295");
        }
        uri.vsock_port = *number;
      }
      break;
    }
  }
  return uri;
}

}  // namespace nbdref::uri
