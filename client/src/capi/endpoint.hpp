// Where a C API handle was asked to connect, for nbd_get_uri(3): each
// connect call that names an address a URI can hold (TCP, a Unix socket,
// vsock, or the URI itself) records it first, with these helpers.
#pragma once

#include <cstdint>
#include <string>

#include "uri/endpoint_record.hpp"
#include "uri/nbd_uri.hpp"

namespace nbdref::capi {

using Endpoint = uri::EndpointRecord;

inline uri::NbdUri tcp_endpoint(std::string host, std::string port) {
  uri::NbdUri u;
  u.transport = uri::Transport::Tcp;
  u.host = std::move(host);
  // nbd_connect_tcp: an empty port means the NBD port.
  u.port = port.empty() ? std::string(uri::DEFAULT_PORT_TEXT) : std::move(port);
  return u;
}

inline uri::NbdUri unix_endpoint(std::string path) {
  uri::NbdUri u;
  u.transport = uri::Transport::Unix;
  u.socket = std::move(path);
  return u;
}

inline uri::NbdUri vsock_endpoint(std::uint32_t cid, std::uint32_t port) {
  uri::NbdUri u;
  u.transport = uri::Transport::Vsock;
  u.vsock_cid = cid;
  u.vsock_port = port;
  return u;
}

}  // namespace nbdref::capi
