#include "uri/uri_connect.hpp"

#include <cerrno>

#include "compat/libnbd.h"

namespace nbdref::uri {
namespace {

using handle::HandleSettings;
using handle::HandleState;

std::uint32_t transport_bit(Transport t) {
  switch (t) {
    case Transport::Tcp:
      return LIBNBD_ALLOW_TRANSPORT_TCP;
    case Transport::Unix:
      return LIBNBD_ALLOW_TRANSPORT_UNIX;
    case Transport::Vsock:
      return LIBNBD_ALLOW_TRANSPORT_VSOCK;
  }
  return 0;
}

const char* transport_words(Transport t) {
  switch (t) {
    case Transport::Tcp:
      return "TCP";
    case Transport::Unix:
      return "a Unix socket";
    case Transport::Vsock:
      return "vsock";
  }
  return "?";
}

// nbd_set_uri_allow_transports(3), nbd_set_uri_allow_tls(3) and
// nbd_set_uri_allow_local_file(3): what a URI may ask for. libnbd refuses
// with EPERM.
Result<void> check_policy(const HandleSettings& s, const NbdUri& uri) {
  const std::string name = scheme(uri);
  if ((s.uri_allow_transports & transport_bit(uri.transport)) == 0) {
    return failure(EPERM, "the URI's transport (" + name + ": " + transport_words(uri.transport) +
                              ") is not permitted by the handle's URI transports "
                              "(nbd_set_uri_allow_transports)");
  }
  if (uri.tls && s.uri_allow_tls == LIBNBD_TLS_DISABLE) {
    return failure(EPERM, "the URI requires TLS (" + name +
                              ") and the handle's URI TLS policy forbids it "
                              "(nbd_set_uri_allow_tls)");
  }
  if (!uri.tls && s.uri_allow_tls == LIBNBD_TLS_REQUIRE) {
    return failure(EPERM, "the URI does not use TLS (" + name +
                              ") and the handle's URI TLS policy requires it "
                              "(nbd_set_uri_allow_tls)");
  }
  if (!s.uri_allow_local_file) {
    for (const auto& [param, value] : {std::pair{"tls-certificates", &uri.tls_certificates},
                                       std::pair{"tls-psk-file", &uri.tls_psk_file}}) {
      if (*value) {
        return failure(EPERM, std::string("the URI's ") + param +
                                  " parameter names a local file, which the handle's URI "
                                  "policy does not allow (nbd_set_uri_allow_local_file)");
      }
    }
  }
  return {};
}

// What the URI says about the connection, into the handle's settings.
void apply_settings(const NbdUri& uri, HandleSettings& s) {
  // U-014 (uri.md "NBD URI export name"): the decoded path is the export name.
  s.export_name = uri.export_name;
  // U-003, U-005 (uri.md "NBD URI scheme"): nbds... connects with TLS or not
  // at all. A plain nbd... URI leaves the handle's TLS mode as the caller
  // set it (opportunistic TLS, if asked for, stays).
  if (uri.tls) s.tls = LIBNBD_TLS_REQUIRE;
  // U-010, U-013 (uri.md "NBD URI authority"): the userinfo is the TLS
  // username; without it the handle's default (the local user) stays.
  if (uri.tls_username) s.tls_username = uri.tls_username;
  // U-016 (uri.md "NBD URI query parameters related to TLS"); U-017: without
  // tls-verify-peer the handle's default, verifying the server, stays.
  if (uri.tls_certificates) s.tls_certificates = uri.tls_certificates;
  if (uri.tls_psk_file) s.tls_psk_file = uri.tls_psk_file;
  if (uri.tls_verify_peer) s.tls_verify_peer = *uri.tls_verify_peer;
  if (uri.tls_hostname) s.tls_hostname = uri.tls_hostname;
}

}  // namespace

std::unique_ptr<transport::Connector> connector_for(const NbdUri& uri) {
  switch (uri.transport) {
    case Transport::Unix:
      return transport::connect_unix(uri.socket);
    case Transport::Vsock:
      return transport::connect_vsock(uri.vsock_cid, uri.vsock_port);
    case Transport::Tcp:
      break;
  }
  return transport::connect_tcp(uri.host, uri.port);
}

Result<void> need_new_handle(const handle::Handle& h) {
  if (const HandleState state = h.state(); state != HandleState::Created) {
    return failure(EINVAL, std::string("invalid state: the handle is ") +
                               handle::state_name(state) +
                               ", connecting needs a newly created handle");
  }
  return {};
}

Result<std::unique_ptr<transport::Connector>> prepare_uri_connect(handle::Handle& h,
                                                                  const NbdUri& uri,
                                                                  bool tls_supported) {
  if (auto ok = need_new_handle(h); !ok) return tl::unexpected(ok.error());
  if (auto ok = check_policy(h.settings(), uri); !ok) return tl::unexpected(ok.error());
  // U-021 (uri.md "Clients which do not support TLS"): a URI that requires
  // TLS fails in a build without it -- never a plaintext connection.
  if (uri.tls && !tls_supported) {
    return failure(ENOTSUP, "the URI requires TLS (" + scheme(uri) +
                                ") and this build has no TLS support (see nbd_supports_tls)");
  }
  // One change, checked against the handle's state under its lock: either
  // every setting the URI carries is applied, or none.
  auto applied = h.change_settings("the settings of a URI", handle::Handle::SettableUntil::Connect,
                                   [&uri](HandleSettings& s) -> Result<void> {
                                     apply_settings(uri, s);
                                     return {};
                                   });
  if (!applied) return tl::unexpected(applied.error());
  return connector_for(uri);
}

Result<std::string> connection_uri(const handle::Handle& h, const std::optional<NbdUri>& endpoint) {
  if (const HandleState state = h.state(); state == HandleState::Created) {
    return failure(ENOTCONN, std::string("invalid state: the handle is ") +
                                 handle::state_name(state) +
                                 ", a URI exists once it is connecting or connected");
  }
  if (!endpoint) {
    return failure(ENOTSUP,
                   "the handle was connected through a socket or a command, which no NBD URI can "
                   "name");
  }
  const HandleSettings s = h.settings();
  NbdUri uri;
  uri.transport = endpoint->transport;
  uri.host = endpoint->host;
  uri.port = endpoint->port;
  uri.socket = endpoint->socket;
  uri.vsock_cid = endpoint->vsock_cid;
  uri.vsock_port = endpoint->vsock_port;
  uri.export_name = s.export_name;
  // nbds only when the handle insists on TLS; the TLS details whenever it
  // may use TLS at all.
  uri.tls = s.tls == LIBNBD_TLS_REQUIRE;
  if (s.tls != LIBNBD_TLS_DISABLE) {
    uri.tls_username = s.tls_username;
    uri.tls_certificates = s.tls_certificates;
    uri.tls_psk_file = s.tls_psk_file;
    if (!s.tls_verify_peer) uri.tls_verify_peer = false;
    uri.tls_hostname = s.tls_hostname;
    // Kept from the URI connected to: the handle has no setting for it.
    uri.tls_type = endpoint->tls_type;
  }
  return format_nbd_uri(uri);
}

}  // namespace nbdref::uri
