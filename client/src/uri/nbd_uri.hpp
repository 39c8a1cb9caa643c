// An NBD URI (uri.md) as a value: where the server is, which export, and
// what TLS the URI asks for. parse_nbd_uri() reads one, format_nbd_uri()
// writes one; both are in the nbdref_uri library (libxml2). The model itself
// needs nothing but the standard library, so the API layers can keep one
// (nbd_get_uri's record of a connection) in builds without URI support.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "error/error.hpp"

namespace nbdref::uri {

// The IANA port of NBD; uri.md "NBD URI authority" makes it the default.
inline constexpr std::uint32_t DEFAULT_PORT = 10809;
inline constexpr std::string_view DEFAULT_PORT_TEXT = "10809";
// The vsock CID a URI without one means: the host (VMADDR_CID_HOST), as in
// libnbd's nbd_connect_uri(3) ("nbd+vsock:///").
inline constexpr std::uint32_t DEFAULT_VSOCK_CID = 2;
// A TCP URI without a host.
inline constexpr std::string_view DEFAULT_HOST = "localhost";

enum class Transport { Tcp, Unix, Vsock };

// The tls-type query parameter (uri.md "NBD URI query parameters related to TLS").
enum class TlsType { Anon, X509, Psk };

struct NbdUri {
  // nbds...: TLS is required (the connection fails without it).
  bool tls = false;
  Transport transport = Transport::Tcp;

  // Tcp: a host name or address; an IPv6 literal without its brackets (and
  // a zone, if any, after '%': "fe80::1%eth0").
  std::string host = std::string(DEFAULT_HOST);
  // Tcp: the port, decimal.
  std::string port = std::string(DEFAULT_PORT_TEXT);
  // Vsock: the context id and port.
  std::uint32_t vsock_cid = DEFAULT_VSOCK_CID;
  std::uint32_t vsock_port = DEFAULT_PORT;
  // Unix: the socket=... parameter, percent-decoded. A leading NUL byte
  // names Linux's abstract namespace.
  std::string socket;

  // The path without its leading '/', percent-decoded.
  std::string export_name;
  // The userinfo of the authority: the TLS username.
  std::optional<std::string> tls_username;

  // TLS query parameters.
  std::optional<TlsType> tls_type;
  std::optional<std::string> tls_hostname;
  std::optional<bool> tls_verify_peer;
  std::optional<std::string> tls_certificates;  // a local directory
  std::optional<std::string> tls_psk_file;      // a local file

  // Experimental ("x-...") parameters this client does not know, by name:
  // they were ignored (the caller may say so in its debug output). Never
  // formatted back.
  std::vector<std::string> ignored_parameters;

  bool operator==(const NbdUri&) const = default;
};

// "nbd", "nbds", "nbd+unix", "nbds+unix", "nbd+vsock" or "nbds+vsock".
std::string scheme(const NbdUri& uri);

// "anon", "x509" or "psk".
std::string_view tls_type_name(TlsType type);

// Parses `text` as an NBD URI. Every failure is EINVAL with a message that
// says which part of the URI is wrong and why.
Result<NbdUri> parse_nbd_uri(std::string_view text);

// Writes `uri` as an NBD URI that parse_nbd_uri reads back as the same
// model (ignored_parameters aside), percent-encoding whatever must be.
// Fails with EINVAL when a field cannot be written in a URI (a TCP port that
// is not a number, an empty socket path, a NUL byte in the export name...).
Result<std::string> format_nbd_uri(const NbdUri& uri);

}  // namespace nbdref::uri
