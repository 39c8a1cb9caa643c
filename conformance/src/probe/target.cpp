#include "probe/target.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "probe/printable.hpp"
#include "uri/nbd_uri.hpp"

namespace nbdref::conform {

std::string Target::describe() const {
  std::string where;
  switch (kind) {
    case Kind::Unix:
      where = "unix:" + (unix_path.starts_with('\0') ? "@" + unix_path.substr(1) : unix_path);
      break;
    case Kind::Tcp:
      where = "tcp:" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + port;
      break;
    case Kind::Vsock:
      where = "vsock:" + std::to_string(vsock_cid) + ":" + std::to_string(vsock_port);
      break;
    case Kind::Command:
    case Kind::SocketActivation:
      where = kind == Kind::Command ? "command:" : "socket-activated command:";
      for (const std::string& arg : argv) where += " " + arg;
      break;
  }
  where += ", export " + quoted(export_name);
  if (tls) {
    where += tls->psk_file           ? ", TLS with PSK user " + quoted(tls->username)
             : tls->certificates_dir ? ", TLS with X.509 from " + *tls->certificates_dir
                                     : ", TLS with the system's CAs";
  }
  return where;
}

std::string local_user_name() {
  if (const char* logname = std::getenv("LOGNAME"); logname && *logname) return logname;
  if (const passwd* pw = ::getpwuid(::geteuid())) return pw->pw_name;
  return {};
}

Result<Target> target_from_uri(std::string_view text) {
  auto parsed = uri::parse_nbd_uri(text);
  if (!parsed) return tl::unexpected(parsed.error());
  const uri::NbdUri& u = *parsed;
  Target t;
  if (u.tls) {
    if (u.tls_type == uri::TlsType::Anon) {
      return failure(EINVAL,
                     "tls-type=anon: the suite authenticates servers with X.509 "
                     "certificates or pre-shared keys");
    }
    tls::TlsOptions options;
    options.certificates_dir = u.tls_certificates;
    options.psk_file = u.tls_psk_file;
    options.username = u.tls_username.value_or(local_user_name());
    options.verify_peer = u.tls_verify_peer.value_or(true);
    // The name the server's certificate must carry: tls-hostname, else the
    // TCP host; on a Unix socket or vsock without one, only the chain.
    if (u.tls_hostname) {
      options.host_name = *u.tls_hostname;
    } else if (u.transport == uri::Transport::Tcp) {
      options.host_name = u.host;
    }
    t.tls = std::move(options);
  } else if (u.tls_certificates || u.tls_psk_file) {
    return failure(EINVAL, "TLS parameters in a plaintext " + uri::scheme(u) +
                               ":// URI: a server that offers TLS takes an nbds... URI");
  }
  switch (u.transport) {
    case uri::Transport::Tcp:
      t.kind = Target::Kind::Tcp;
      t.host = u.host;
      t.port = u.port;
      break;
    case uri::Transport::Unix:
      t.kind = Target::Kind::Unix;
      t.unix_path = u.socket;
      break;
    case uri::Transport::Vsock:
      t.kind = Target::Kind::Vsock;
      t.vsock_cid = u.vsock_cid;
      t.vsock_port = u.vsock_port;
      break;
  }
  t.export_name = u.export_name;
  return t;
}

Target command_target(std::vector<std::string> argv, bool socket_activation,
                      std::string export_name) {
  Target t;
  t.kind = socket_activation ? Target::Kind::SocketActivation : Target::Kind::Command;
  t.argv = std::move(argv);
  t.export_name = std::move(export_name);
  return t;
}

}  // namespace nbdref::conform
