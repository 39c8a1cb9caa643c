// The server under test: where each check's fresh connection goes, and which
// export it asks for. A persistent server (Unix socket, TCP, vsock) serves
// every connection; a command is started anew for each connection, talking
// NBD on its stdin/stdout (as nbd_connect_command does) or on a socket it is
// handed as systemd's socket activation would. A TLS target (nbds URIs, or
// the TLS options of nbdref-conform) carries the client credentials the
// probe negotiates TLS with.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "error/error.hpp"
#include "tls/credentials.hpp"

namespace nbdref::conform {

struct Target {
  enum class Kind { Unix, Tcp, Vsock, Command, SocketActivation };

  Kind kind = Kind::Unix;
  std::string unix_path;  // Unix (a leading NUL names the abstract namespace)
  std::string host;       // Tcp
  std::string port;       // Tcp, decimal or a service name
  std::uint32_t vsock_cid = 0;
  std::uint32_t vsock_port = 0;
  std::vector<std::string> argv;  // Command, SocketActivation
  std::string export_name;
  // Set for a server that offers TLS: the credentials (certificates
  // directory or PSK file and user), the name its certificate must carry
  // and whether it is verified. Connections then negotiate TLS first.
  std::optional<tls::TlsOptions> tls;

  // One server process outlives each connection (it can crash for good).
  bool persistent() const { return kind != Kind::Command && kind != Kind::SocketActivation; }

  // For reports: "unix:/run/nbd.sock", "tcp:localhost:10809",
  // "command: nbdkit -s memory 64M", each followed by the export name and,
  // for a TLS target, "TLS with PSK user 'alice'" or "TLS with X.509 from DIR".
  std::string describe() const;
};

// A target from an NBD URI (uri.md): nbd://, nbd+unix://, nbd+vsock://, and
// their TLS forms nbds... with tls-certificates=DIR or tls-psk-file=FILE
// (the URI's user, else the local user, is the PSK username),
// tls-hostname=NAME and tls-verify-peer=0|1. Fails with EINVAL when the URI
// does not parse or asks for anonymous TLS (tls-type=anon), which no check
// can authenticate a server with.
Result<Target> target_from_uri(std::string_view uri);

// The local user's name ($LOGNAME, else the password entry): the PSK
// username when none is given, as libnbd does.
std::string local_user_name();

// A target started per connection: argv with NBD on its stdin/stdout, or
// with `socket_activation` a listening socket as descriptor 3.
Target command_target(std::vector<std::string> argv, bool socket_activation,
                      std::string export_name);

}  // namespace nbdref::conform
