// NBD URIs (uri.md) read and written by the nbdref_uri library: a table of
// URIs, each with the model it must parse to or the exact error it must
// give, each naming the U- clauses it exercises; then writing models and
// reading them back.
#include <cerrno>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "uri/nbd_uri.hpp"

namespace nbdref::uri {

// For gtest's messages.
void PrintTo(const NbdUri& u, std::ostream* os) {
  *os << "{tls=" << u.tls << " transport=" << static_cast<int>(u.transport) << " host='" << u.host
      << "' port='" << u.port << "' cid=" << u.vsock_cid << " vport=" << u.vsock_port << " socket='"
      << u.socket << "' (" << u.socket.size() << " bytes) export='" << u.export_name
      << "' user=" << (u.tls_username ? "'" + *u.tls_username + "'" : "-")
      << " tls-type=" << (u.tls_type ? std::string(tls_type_name(*u.tls_type)) : "-")
      << " tls-hostname=" << u.tls_hostname.value_or("-")
      << " tls-verify-peer=" << (u.tls_verify_peer ? std::to_string(*u.tls_verify_peer) : "-")
      << " tls-certificates=" << u.tls_certificates.value_or("-")
      << " tls-psk-file=" << u.tls_psk_file.value_or("-")
      << " ignored=" << u.ignored_parameters.size() << "}";
}

namespace {

// ---- models ----

NbdUri tcp(std::string host, std::string port = "10809", std::string export_name = "") {
  NbdUri u;
  u.host = std::move(host);
  u.port = std::move(port);
  u.export_name = std::move(export_name);
  return u;
}

NbdUri unix_socket(std::string socket, std::string export_name = "") {
  NbdUri u;
  u.transport = Transport::Unix;
  u.socket = std::move(socket);
  u.export_name = std::move(export_name);
  return u;
}

NbdUri vsock(std::uint32_t cid, std::uint32_t port, std::string export_name = "") {
  NbdUri u;
  u.transport = Transport::Vsock;
  u.vsock_cid = cid;
  u.vsock_port = port;
  u.export_name = std::move(export_name);
  return u;
}

NbdUri with(NbdUri u, const std::function<void(NbdUri&)>& change) {
  change(u);
  return u;
}

NbdUri tls(NbdUri u) {
  u.tls = true;
  return u;
}

// ---- URIs that parse ----

struct ValidCase {
  const char* name;
  const char* clauses;
  std::string text;
  NbdUri expected;
};

std::ostream& operator<<(std::ostream& os, const ValidCase& c) {
  return os << c.text;
}

std::vector<ValidCase> valid_cases() {
  return {
      // uri.md "NBD URI export name": its table, row by row.
      {"ExportTableHostDisk", "U-002 U-012 U-014", "nbd://example.com/disk",
       tcp("example.com", "10809", "disk")},
      {"ExportTableUnixDisk", "U-004 U-014", "nbd+unix:///disk?socket=sock",
       unix_socket("sock", "disk")},
      {"ExportTableSlashIsEmpty", "U-014", "nbd://example.com/", tcp("example.com")},
      {"ExportTableNoPathIsEmpty", "U-008 U-014", "nbd://example.com", tcp("example.com")},
      {"ExportTableDoubleSlash", "U-014", "nbd://example.com//disk",
       tcp("example.com", "10809", "/disk")},
      {"ExportTableEncodedSpace", "U-014", "nbd://example.com/hello%20world",
       tcp("example.com", "10809", "hello world")},
      {"ExportKeepsEncodedDelimiters", "U-001 U-014", "nbd://h/a%3Fb%23c%25d%2Fe",
       tcp("h", "10809", "a?b#c%d/e")},
      {"ExportKeepsPlusAndSubDelims", "U-001 U-014", "nbd://h/a+b;c=d&e",
       tcp("h", "10809", "a+b;c=d&e")},
      {"ExportDecodesUtf8", "U-014", "nbd://h/caf%C3%A9", tcp("h", "10809", "caf\xc3\xa9")},
      // Schemes and TLS.
      {"NbdsRequiresTls", "U-002 U-003", "nbds://example.com:10810/x",
       tls(tcp("example.com", "10810", "x"))},
      {"NbdsUnixWithUserAndCertificates", "U-005 U-006 U-010",
       "nbds+unix://alice@/?socket=/tmp/nbd.sock&tls-certificates=certs",
       with(tls(unix_socket("/tmp/nbd.sock")),
            [](NbdUri& u) {
              u.tls_username = "alice";
              u.tls_certificates = "certs";
            })},
      {"SchemeIgnoresCase", "U-001 U-002", "NBDS+Unix:///e?socket=s", tls(unix_socket("s", "e"))},
      {"VsockDefaultsToHostCid", "U-007 U-012", "nbd+vsock:///", vsock(2, 10809)},
      {"VsockTakesCidAndFullPortRange", "U-007", "nbds+vsock://3:4294967295/e",
       tls(vsock(3, 4294967295U, "e"))},
      // The authority.
      {"Ipv4AddressAndPort", "U-010", "nbd://127.0.0.1:12345/x", tcp("127.0.0.1", "12345", "x")},
      {"Ipv6LiteralLosesItsBrackets", "U-011 U-012", "nbd://[::1]:10809/", tcp("::1")},
      {"Ipv6ZoneIsDecoded", "U-011", "nbd://[fe80::1%25eth0]/", tcp("fe80::1%eth0")},
      {"EmptyPortMeansTheDefault", "U-012", "nbd://h:/", tcp("h")},
      {"PortIsNormalized", "U-012", "nbd://h:010810", tcp("h", "10810")},
      {"NoHostMeansLocalhost", "U-008", "nbd:///disk", tcp("localhost", "10809", "disk")},
      {"UsernameIsDecoded", "U-010 U-013", "nbds://%61lice%3A1@h/",
       with(tls(tcp("h")), [](NbdUri& u) { u.tls_username = "alice:1"; })},
      {"EmptyUserinfoIsNoUsername", "U-010 U-013", "nbd://@h/", tcp("h")},
      // The socket parameter.
      {"AbstractSocket", "U-015", std::string("nbd+unix:///?socket=%00/abstract"),
       unix_socket(std::string("\0/abstract", 10))},
      {"SocketValueIsDecoded", "U-004", "nbd+unix:///?socket=/tmp/a%26b%3Dc",
       unix_socket("/tmp/a&b=c")},
      {"QueryWithoutPath", "U-004 U-014", "nbd+unix://?socket=s", unix_socket("s")},
      {"SemicolonSeparatesParameters", "U-004 U-016", "nbd+unix:///?socket=a;tls-type=x509",
       with(unix_socket("a"), [](NbdUri& u) { u.tls_type = TlsType::X509; })},
      // TLS parameters.
      {"TlsParametersPsk", "U-016",
       "nbds://h/e?tls-type=psk&tls-hostname=server.example&tls-verify-peer=0&tls-psk-file=/k.psk",
       with(tls(tcp("h", "10809", "e")),
            [](NbdUri& u) {
              u.tls_type = TlsType::Psk;
              u.tls_hostname = "server.example";
              u.tls_verify_peer = false;
              u.tls_psk_file = "/k.psk";
            })},
      {"TlsParametersAnonVerify", "U-016", "nbds://h/?tls-type=anon&tls-verify-peer=1",
       with(tls(tcp("h")),
            [](NbdUri& u) {
              u.tls_type = TlsType::Anon;
              u.tls_verify_peer = true;
            })},
      {"TlsParametersOnAPlainUri", "U-016", "nbd://h/?tls-type=x509",
       with(tcp("h"), [](NbdUri& u) { u.tls_type = TlsType::X509; })},
      // Other parameters.
      {"ExperimentalParametersAreIgnored", "U-018 U-020", "nbd://h/?x-foo=1&x-bar&&x-foo=2",
       with(tcp("h"),
            [](NbdUri& u) {
              u.ignored_parameters = {"x-foo", "x-bar", "x-foo"};
            })},
  };
}

class ValidUri : public ::testing::TestWithParam<ValidCase> {};

TEST_P(ValidUri, ParsesToTheExpectedModel) {
  const ValidCase& c = GetParam();
  SCOPED_TRACE(std::string("clauses ") + c.clauses);
  const auto parsed = parse_nbd_uri(c.text);
  ASSERT_TRUE(parsed) << c.text << ": " << parsed.error().message;
  EXPECT_EQ(*parsed, c.expected) << c.text;
}

// U-001 (uri.md "Related standards"): what parses can be written again, and
// the written URI reads back as the same model.
TEST_P(ValidUri, WritesBackToAUriOfTheSameModel) {
  const ValidCase& c = GetParam();
  SCOPED_TRACE(std::string("clauses ") + c.clauses);
  auto parsed = parse_nbd_uri(c.text);
  ASSERT_TRUE(parsed) << parsed.error().message;
  parsed->ignored_parameters.clear();
  const auto written = format_nbd_uri(*parsed);
  ASSERT_TRUE(written) << written.error().message;
  const auto again = parse_nbd_uri(*written);
  ASSERT_TRUE(again) << *written << ": " << again.error().message;
  EXPECT_EQ(*again, *parsed) << c.text << " was written as " << *written;
}

INSTANTIATE_TEST_SUITE_P(Table, ValidUri, ::testing::ValuesIn(valid_cases()),
                         [](const ::testing::TestParamInfo<ValidCase>& p) {
                           return std::string(p.param.name);
                         });

// ---- URIs that do not ----

struct InvalidCase {
  const char* name;
  const char* clauses;
  std::string text;
  std::string error;  // after "invalid NBD URI: "
};

std::ostream& operator<<(std::ostream& os, const InvalidCase& c) {
  return os << c.text;
}

std::vector<InvalidCase> invalid_cases() {
  return {
      {"Empty", "U-001", "", "the URI is empty"},
      // U-001: RFC 3986's character set and escapes.
      {"Space", "U-001", "nbd://h/a b",
       "a space at offset 9 is not allowed in a URI (RFC 3986): percent-encode it as %20"},
      {"RawNonAscii", "U-001", "nbd://h/caf\xc3\xa9",
       "byte 0xc3 at offset 11 is not allowed in a URI (RFC 3986): percent-encode it as %C3"},
      {"RawNul", "U-001", std::string("nbd://h/\0x", 10),
       "byte 0x00 at offset 8 is not allowed in a URI (RFC 3986): percent-encode it as %00"},
      {"Backslash", "U-001", "nbd://h/a\\b",
       "character '\\' at offset 9 is not allowed in a URI (RFC 3986): percent-encode it as %5C"},
      {"BadEscape", "U-001", "nbd://h/%zz",
       "'%' at offset 8 does not start a percent-encoding (two hex digits must follow; write '%' "
       "itself as %25)"},
      {"TruncatedEscape", "U-001", "nbd://h/%4",
       "'%' at offset 8 does not start a percent-encoding (two hex digits must follow; write '%' "
       "itself as %25)"},
      // Schemes.
      {"NoScheme", "U-002", "example.com/disk",
       "no scheme: an NBD URI begins with nbd, nbds, nbd+unix, nbds+unix, nbd+vsock or nbds+vsock "
       "and then ://"},
      {"UnknownScheme", "U-002 U-007", "http://example.com/",
       "unknown scheme 'http': an NBD URI uses nbd, nbds, nbd+unix, nbds+unix, nbd+vsock or "
       "nbds+vsock"},
      {"NoAuthority", "U-014", "nbd:disk",
       "'nbd:' must be followed by '//', as in nbd://HOST/EXPORT"},
      {"NoAuthorityAbsolutePath", "U-014", "nbds+unix:/disk?socket=s",
       "'nbds+unix:' must be followed by '//', as in nbds+unix://HOST/EXPORT"},
      // Unix sockets.
      {"UnixWithoutSocket", "U-004", "nbd+unix:///disk",
       "an nbd+unix URI needs a socket parameter naming the Unix socket, as in "
       "nbd+unix:///EXPORT?socket=/run/nbd.sock"},
      {"TlsUnixWithoutSocket", "U-006", "nbds+unix:///?tls-type=x509",
       "an nbds+unix URI needs a socket parameter naming the Unix socket, as in "
       "nbds+unix:///EXPORT?socket=/run/nbd.sock"},
      {"UnixWithHost", "U-009", "nbd+unix://localhost/?socket=s",
       "an nbd+unix URI has no host ('localhost'): the socket parameter says where the server is"},
      {"UnixWithPort", "U-009", "nbd+unix://:10809/?socket=s", "an nbd+unix URI has no port"},
      {"EmptySocket", "U-004", "nbd+unix:///?socket=", "the socket parameter is empty"},
      {"SocketWithoutValue", "U-004", "nbd+unix:///?socket", "the socket parameter is empty"},
      {"NulInsideSocketPath", "U-015", "nbd+unix:///?socket=/a%00b",
       "the socket parameter contains a NUL byte after its start (only a leading %00, naming the "
       "abstract namespace, is allowed)"},
      {"SocketOnTcp", "U-004", "nbd://h/?socket=/s",
       "the socket parameter belongs to nbd+unix and nbds+unix URIs, not nbd"},
      {"SocketOnVsock", "U-004", "nbds+vsock:///?socket=/s",
       "the socket parameter belongs to nbd+unix and nbds+unix URIs, not nbds+vsock"},
      {"SocketTwice", "U-004", "nbd+unix:///?socket=a&socket=b",
       "the socket parameter appears more than once"},
      // The authority.
      {"UnbracketedIpv6", "U-011", "nbd://::1/",
       "host '::1' has more than one ':': write an IPv6 address in brackets, as in "
       "nbd://[::1]:10809/"},
      {"HostWithTwoPorts", "U-011", "nbd://h:1:2/",
       "host 'h:1:2' has more than one ':': write an IPv6 address in brackets, as in "
       "nbd://[::1]:10809/"},
      {"UnclosedBracket", "U-011", "nbd://[::1/", "'[' in the authority has no closing ']'"},
      {"JunkAfterBracket", "U-011", "nbd://[::1]x/",
       "'x' follows the bracketed address: only ':PORT' may"},
      {"NotAnIpv6Address", "U-011", "nbd://[1::2::3]/", "'[1::2::3]' is not an IPv6 address"},
      {"PercentInIpv6NotAZone", "U-011", "nbd://[::1%26x]/",
       "in '[::1%26x]' a '%' can only start a zone, written %25 and the zone's name"},
      {"EmptyZone", "U-011", "nbd://[fe80::1%25]/",
       "in '[fe80::1%25]' a '%' can only start a zone, written %25 and the zone's name"},
      {"EncodedColonInHost", "U-011", "nbd://a%3ab/",
       "host 'a%3ab' decodes to 'a:b', which holds ':': write an IPv6 address in brackets"},
      {"IpvFuture", "U-011", "nbd://[v1.x]/",
       "the address '[v1.x]' is an IPvFuture literal, which is not supported"},
      {"PortNotANumber", "U-012", "nbd://h:nbd/", "port 'nbd' is not a decimal number"},
      {"PortZero", "U-012", "nbd://h:0/", "port 0 is not a TCP port (1 to 65535)"},
      {"PortTooLarge", "U-012", "nbd://h:65536/", "port 65536 is not a TCP port (1 to 65535)"},
      {"Password", "U-010", "nbd://u:secret@h/",
       "the userinfo holds a ':': NBD URIs carry only a TLS username, never a password (RFC 3986 "
       "section 3.2.1; write ':' in a username as %3A)"},
      {"VsockCidNotANumber", "U-007", "nbd+vsock://host/",
       "vsock CID 'host' is not a number from 0 to 4294967295"},
      {"VsockPortTooLarge", "U-007", "nbd+vsock://2:4294967296/",
       "vsock port 4294967296 is not a number from 0 to 4294967295"},
      {"HostWithNul", "U-001", "nbd://a%00b/", "the host contains a NUL byte"},
      {"NotAnRfc3986Uri", "U-001", "nbd://h/[x]",
       "not a valid RFC 3986 URI (libxml2 could not parse it; look at the authority and any "
       "brackets)"},
      // The export name.
      {"ExportWithNul", "U-014", "nbd://h/a%00b",
       "the export name contains a NUL byte (%00), which no NBD string may hold"},
      {"ExportTooLong", "U-014", "nbd://h/" + std::string(4097, 'a'),
       "the export name is 4097 bytes long, more than the protocol's 4096"},
      {"Fragment", "U-014", "nbd://h/disk#1",
       "a fragment ('#...') has no meaning in an NBD URI (write '#' in an export name as %23)"},
      // TLS parameters.
      {"UnknownTlsType", "U-016", "nbds://h/?tls-type=rsa", "tls-type must be anon, x509 or psk"},
      {"TlsVerifyPeerNotABit", "U-016", "nbds://h/?tls-verify-peer=yes",
       "tls-verify-peer must be 0 or 1"},
      {"EmptyTlsHostname", "U-016",
       "nbds://h/?tls-hostname=", "the tls-hostname parameter is empty"},
      {"EmptyPskFile", "U-016", "nbds://h/?tls-psk-file", "the tls-psk-file parameter is empty"},
      {"NulInCertificates", "U-016", "nbds://h/?tls-certificates=/a%00",
       "the tls-certificates parameter contains a NUL byte"},
      {"TlsTypeTwice", "U-016", "nbds://h/?tls-type=psk&tls-type=x509",
       "the tls-type parameter appears more than once"},
      // Other parameters.
      {"UnknownParameter", "U-019 U-020", "nbd://h/?foo=1",
       "unknown query parameter 'foo' (known: socket, tls-type, tls-hostname, tls-verify-peer, "
       "tls-certificates, tls-psk-file; experimental ones begin with x-)"},
      {"UnknownParameterCaseMatters", "U-020", "nbd+unix:///?Socket=s",
       "unknown query parameter 'Socket' (known: socket, tls-type, tls-hostname, tls-verify-peer, "
       "tls-certificates, tls-psk-file; experimental ones begin with x-)"},
      {"ParameterWithoutName", "U-020", "nbd://h/?=v", "the query parameter '=v' has no name"},
  };
}

class InvalidUri : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidUri, FailsWithEinvalNamingTheProblem) {
  const InvalidCase& c = GetParam();
  SCOPED_TRACE(std::string("clauses ") + c.clauses);
  const auto parsed = parse_nbd_uri(c.text);
  ASSERT_FALSE(parsed) << c.text << " parsed";
  EXPECT_EQ(parsed.error().errnum, EINVAL);
  EXPECT_EQ(parsed.error().message, "invalid NBD URI: " + c.error);
}

INSTANTIATE_TEST_SUITE_P(Table, InvalidUri, ::testing::ValuesIn(invalid_cases()),
                         [](const ::testing::TestParamInfo<InvalidCase>& p) {
                           return std::string(p.param.name);
                         });

// ---- writing ----

struct FormatCase {
  const char* name;
  const char* clauses;
  NbdUri model;
  std::string text;
};

std::ostream& operator<<(std::ostream& os, const FormatCase& c) {
  return os << c.text;
}

std::vector<FormatCase> format_cases() {
  return {
      {"DefaultPortLeftOut", "U-012", tcp("example.com"), "nbd://example.com/"},
      {"OtherPortWritten", "U-012", tcp("example.com", "10810", "disk"),
       "nbd://example.com:10810/disk"},
      {"Ipv6InBrackets", "U-011", tcp("::1", "10810"), "nbd://[::1]:10810/"},
      {"Ipv6ZoneEncoded", "U-011", tcp("fe80::1%eth0"), "nbd://[fe80::1%25eth0]/"},
      {"ExportEncoded", "U-001 U-014", tcp("h", "10809", "hello world?#%"),
       "nbd://h/hello%20world%3F%23%25"},
      {"ExportLeadingSlash", "U-014", tcp("h", "10809", "/disk"), "nbd://h//disk"},
      {"ExportUtf8Encoded", "U-001 U-014", tcp("h", "10809", "caf\xc3\xa9"), "nbd://h/caf%C3%A9"},
      {"UnixSocketInQuery", "U-004 U-009", unix_socket("/run/nbd.sock", "e"),
       "nbd+unix:///e?socket=/run/nbd.sock"},
      {"UnixSocketDelimitersEncoded", "U-001 U-004", unix_socket("/tmp/a&b=c;d+e"),
       "nbd+unix:///?socket=/tmp/a%26b%3Dc%3Bd%2Be"},
      {"AbstractSocket", "U-015", unix_socket(std::string("\0/abstract", 10)),
       "nbd+unix:///?socket=%00/abstract"},
      {"TlsUnixWithUser", "U-005 U-010",
       with(tls(unix_socket("s")), [](NbdUri& u) { u.tls_username = "al:ice"; }),
       "nbds+unix://al%3Aice@/?socket=s"},
      {"TlsParameters", "U-016",
       with(tls(tcp("h")),
            [](NbdUri& u) {
              u.tls_type = TlsType::Psk;
              u.tls_hostname = "server";
              u.tls_certificates = "/etc/pki/nbd";
              u.tls_psk_file = "/k.psk";
              u.tls_verify_peer = false;
            }),
       "nbds://h/?tls-type=psk&tls-hostname=server&tls-certificates=/etc/pki/nbd&"
       "tls-psk-file=/k.psk&tls-verify-peer=0"},
      {"VsockDefaultPortLeftOut", "U-012", vsock(2, 10809, "e"), "nbd+vsock://2/e"},
      {"VsockPortWritten", "U-007", tls(vsock(3, 4294967295U)), "nbds+vsock://3:4294967295/"},
      {"HostNameEncoded", "U-001", tcp("my host"), "nbd://my%20host/"},
  };
}

class FormatUri : public ::testing::TestWithParam<FormatCase> {};

TEST_P(FormatUri, WritesTheExpectedText) {
  const FormatCase& c = GetParam();
  SCOPED_TRACE(std::string("clauses ") + c.clauses);
  const auto written = format_nbd_uri(c.model);
  ASSERT_TRUE(written) << written.error().message;
  EXPECT_EQ(*written, c.text);
}

TEST_P(FormatUri, ReadsBackAsTheSameModel) {
  const FormatCase& c = GetParam();
  SCOPED_TRACE(std::string("clauses ") + c.clauses);
  const auto written = format_nbd_uri(c.model);
  ASSERT_TRUE(written) << written.error().message;
  const auto parsed = parse_nbd_uri(*written);
  ASSERT_TRUE(parsed) << *written << ": " << parsed.error().message;
  EXPECT_EQ(*parsed, c.model) << *written;
}

INSTANTIATE_TEST_SUITE_P(Table, FormatUri, ::testing::ValuesIn(format_cases()),
                         [](const ::testing::TestParamInfo<FormatCase>& p) {
                           return std::string(p.param.name);
                         });

// Every byte value in an export name, socket path and username survives
// writing and reading (U-001, U-014, U-015): the encoder leaves nothing the
// parser would read differently.
TEST(UriWriting, EveryByteRoundTrips) {
  std::string bytes;
  for (int b = 1; b < 256; ++b) bytes.push_back(static_cast<char>(b));
  const NbdUri models[] = {
      tcp("h", "10809", bytes),
      unix_socket("/tmp/" + bytes, bytes),
      unix_socket(std::string(1, '\0') + bytes),
      with(tls(tcp("h")),
           [&](NbdUri& u) {
             u.tls_username = bytes;
             u.tls_hostname = bytes;
             u.tls_psk_file = bytes;
           }),
  };
  for (const NbdUri& m : models) {
    const auto written = format_nbd_uri(m);
    ASSERT_TRUE(written) << written.error().message;
    const auto parsed = parse_nbd_uri(*written);
    ASSERT_TRUE(parsed) << *written << ": " << parsed.error().message;
    EXPECT_EQ(*parsed, m) << *written;
  }
}

struct UnwritableCase {
  const char* name;
  NbdUri model;
  std::string error;  // after "cannot write an NBD URI: "
};

TEST(UriWriting, RefusesWhatNoUriCanHold) {
  const UnwritableCase cases[] = {
      {"ServiceNamePort", tcp("h", "nbd"),
       "port 'nbd' is not a number from 1 to 65535 (a URI has no service names)"},
      {"PortZero", tcp("h", "0"),
       "port '0' is not a number from 1 to 65535 (a URI has no service names)"},
      {"EmptyHost", tcp(""), "a TCP URI needs a host"},
      {"ColonButNotIpv6", tcp("a:b"), "host 'a:b' holds ':' but is not an IPv6 address"},
      {"EmptySocket", unix_socket(""), "a Unix socket URI needs a socket path"},
      {"NulInSocketPath", unix_socket(std::string("/a\0b", 4)),
       "the socket path contains a NUL byte"},
      {"NulInExportName", tcp("h", "10809", std::string("a\0b", 3)),
       "the export name contains a NUL byte"},
      {"EmptyPskFile", with(tls(tcp("h")), [](NbdUri& u) { u.tls_psk_file = ""; }),
       "the tls-psk-file value is empty or holds a NUL byte"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto written = format_nbd_uri(c.model);
    ASSERT_FALSE(written) << *written;
    EXPECT_EQ(written.error().errnum, EINVAL);
    EXPECT_EQ(written.error().message, "cannot write an NBD URI: " + c.error);
  }
}

TEST(Scheme, NamesEachTransportAndTlsPair) {
  EXPECT_EQ(scheme(tcp("h")), "nbd");
  EXPECT_EQ(scheme(tls(tcp("h"))), "nbds");
  EXPECT_EQ(scheme(unix_socket("s")), "nbd+unix");
  EXPECT_EQ(scheme(tls(unix_socket("s"))), "nbds+unix");
  EXPECT_EQ(scheme(vsock(2, 1)), "nbd+vsock");
  EXPECT_EQ(scheme(tls(vsock(2, 1))), "nbds+vsock");
}

}  // namespace
}  // namespace nbdref::uri
