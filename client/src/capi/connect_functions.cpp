// The synchronous connect calls.
#include <string>
#include <vector>

#include "capi/call.hpp"
#include "capi/export.hpp"
#include "compat/libnbd.h"
#include "transport/connector.hpp"

using namespace nbdref;
using capi::entry;
using capi::missing;
using capi::to_int;

NBDREF_EXPORT int nbd_connect_unix(nbd_handle* h, const char* unixsocket) {
  return entry("nbd_connect_unix", -1, [&](const char* fn) {
    if (missing(fn, unixsocket, "unixsocket")) return -1;
    h->endpoint.remember(h->impl, capi::unix_endpoint(unixsocket));
    return to_int(fn, h->impl.connect(transport::connect_unix(unixsocket)));
  });
}

NBDREF_EXPORT int nbd_connect_tcp(nbd_handle* h, const char* hostname, const char* port) {
  return entry("nbd_connect_tcp", -1, [&](const char* fn) {
    if (missing(fn, hostname, "hostname") || missing(fn, port, "port")) return -1;
    h->endpoint.remember(h->impl, capi::tcp_endpoint(hostname, port));
    return to_int(fn, h->impl.connect(transport::connect_tcp(hostname, port)));
  });
}

NBDREF_EXPORT int nbd_connect_socket(nbd_handle* h, int sock) {
  return entry("nbd_connect_socket", -1, [&](const char* fn) {
    return to_int(fn, h->impl.connect(transport::connect_socket(sock)));
  });
}

NBDREF_EXPORT int nbd_connect_command(nbd_handle* h, char** argv) {
  return entry("nbd_connect_command", -1, [&](const char* fn) {
    if (missing(fn, argv, "argv")) return -1;
    std::vector<std::string> args;
    for (char** a = argv; *a; ++a) args.emplace_back(*a);
    return to_int(fn, h->impl.connect(transport::connect_command(std::move(args))));
  });
}

NBDREF_EXPORT int nbd_connect_vsock(nbd_handle* h, uint32_t cid, uint32_t port) {
  return entry("nbd_connect_vsock", -1, [&](const char* fn) {
    h->endpoint.remember(h->impl, capi::vsock_endpoint(cid, port));
    return to_int(fn, h->impl.connect(transport::connect_vsock(cid, port)));
  });
}

NBDREF_EXPORT int nbd_connect_systemd_socket_activation(nbd_handle* h, char** argv) {
  return entry("nbd_connect_systemd_socket_activation", -1, [&](const char* fn) {
    if (missing(fn, argv, "argv")) return -1;
    std::vector<std::string> args;
    for (char** a = argv; *a; ++a) args.emplace_back(*a);
    return to_int(fn,
                  h->impl.connect(transport::connect_systemd_socket_activation(std::move(args))));
  });
}

NBDREF_EXPORT int nbd_supports_vsock(nbd_handle*) { return transport::vsock_supported() ? 1 : 0; }
