// The asynchronous machinery: connecting without waiting, the handle's
// state predicates, driving the connection from the caller's event loop,
// and retiring completed commands.
#include <arpa/inet.h>
#include <sys/un.h>

#include <cstring>
#include <optional>
#include <vector>

#include "capi/call.hpp"
#include "capi/export.hpp"
#include "compat/libnbd.h"
#include "transport/connector.hpp"

using namespace nbdref;
using capi::entry;
using capi::missing;
using capi::to_int;
using handle::HandleState;

namespace {

// `where`, when given, is the address nbd_get_uri will name.
int start(nbd_handle* h, const char* function,
          const std::function<std::unique_ptr<transport::Connector>()>& make,
          const std::function<uri::NbdUri()>& where = {}) {
  return entry(function, -1, [&](const char* fn) {
    if (where) h->endpoint.remember(h->impl, where());
    return to_int(fn, h->impl.start_connect(make()));
  });
}

std::vector<std::string> arguments(char** argv) {
  std::vector<std::string> args;
  for (char** a = argv; *a; ++a) args.emplace_back(*a);
  return args;
}

bool in_state(nbd_handle* h, HandleState s) { return h->impl.state() == s; }

// The numeric address and port of an AF_INET or AF_INET6 address, for nbd_get_uri.
std::optional<uri::NbdUri> tcp_endpoint_of(const sockaddr* addr, socklen_t addrlen) {
  char text[INET6_ADDRSTRLEN] = {};
  if (addr->sa_family == AF_INET && addrlen >= sizeof(sockaddr_in)) {
    sockaddr_in in{};
    std::memcpy(&in, addr, sizeof in);
    if (!inet_ntop(AF_INET, &in.sin_addr, text, sizeof text)) return std::nullopt;
    return capi::tcp_endpoint(text, std::to_string(ntohs(in.sin_port)));
  }
  if (addr->sa_family == AF_INET6 && addrlen >= sizeof(sockaddr_in6)) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, addr, sizeof in6);
    if (!inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof text)) return std::nullopt;
    std::string host = text;
    if (in6.sin6_scope_id != 0) host += "%" + std::to_string(in6.sin6_scope_id);
    return capi::tcp_endpoint(host, std::to_string(ntohs(in6.sin6_port)));
  }
  return std::nullopt;
}

}  // namespace

// ---- connecting without waiting ----

NBDREF_EXPORT int nbd_aio_connect(nbd_handle* h, const struct sockaddr* addr, socklen_t addrlen) {
  return entry("nbd_aio_connect", -1, [&](const char* fn) {
    if (missing(fn, addr, "addr")) return -1;
    if (addr->sa_family == AF_UNIX) {
      const auto* un = reinterpret_cast<const sockaddr_un*>(addr);
      const std::size_t length = addrlen - offsetof(sockaddr_un, sun_path);
      // A pathname address is NUL-terminated; an abstract one uses every byte.
      std::string path(un->sun_path, length);
      if (!path.empty() && path[0] != '\0') path = path.c_str();
      h->endpoint.remember(h->impl, capi::unix_endpoint(path));
      return to_int(fn, h->impl.start_connect(transport::connect_unix(path)));
    }
    if (addr->sa_family != AF_INET && addr->sa_family != AF_INET6) {
      capi::set_error(fn, EAFNOSUPPORT,
                      "address family " + std::to_string(addr->sa_family) + " is not supported");
      return -1;
    }
    transport::TcpAddress a{};
    std::memcpy(&a.storage, addr, std::min<std::size_t>(addrlen, sizeof a.storage));
    a.length = addrlen;
    a.text = "the given address";
    if (auto where = tcp_endpoint_of(addr, addrlen)) h->endpoint.remember(h->impl, *where);
    return to_int(fn, h->impl.start_connect(transport::connect_tcp_addresses("sockaddr", {a})));
  });
}

NBDREF_EXPORT int nbd_aio_connect_unix(nbd_handle* h, const char* unixsocket) {
  if (!unixsocket) return nbd_connect_unix(h, nullptr);  // records EFAULT
  return start(
      h, "nbd_aio_connect_unix", [&] { return transport::connect_unix(unixsocket); },
      [&] { return capi::unix_endpoint(unixsocket); });
}

NBDREF_EXPORT int nbd_aio_connect_tcp(nbd_handle* h, const char* hostname, const char* port) {
  if (!hostname || !port) return nbd_connect_tcp(h, hostname, port);  // records EFAULT
  return start(
      h, "nbd_aio_connect_tcp", [&] { return transport::connect_tcp(hostname, port); },
      [&] { return capi::tcp_endpoint(hostname, port); });
}

NBDREF_EXPORT int nbd_aio_connect_socket(nbd_handle* h, int sock) {
  return start(h, "nbd_aio_connect_socket", [&] { return transport::connect_socket(sock); });
}

NBDREF_EXPORT int nbd_aio_connect_command(nbd_handle* h, char** argv) {
  if (!argv) return nbd_connect_command(h, nullptr);  // records EFAULT
  return start(h, "nbd_aio_connect_command",
               [&] { return transport::connect_command(arguments(argv)); });
}

NBDREF_EXPORT int nbd_aio_connect_vsock(nbd_handle* h, uint32_t cid, uint32_t port) {
  return start(
      h, "nbd_aio_connect_vsock", [&] { return transport::connect_vsock(cid, port); },
      [&] { return capi::vsock_endpoint(cid, port); });
}

NBDREF_EXPORT int nbd_aio_connect_systemd_socket_activation(nbd_handle* h, char** argv) {
  if (!argv) return nbd_connect_systemd_socket_activation(h, nullptr);  // records EFAULT
  return start(h, "nbd_aio_connect_systemd_socket_activation",
               [&] { return transport::connect_systemd_socket_activation(arguments(argv)); });
}

// ---- states ----

NBDREF_EXPORT int nbd_aio_is_created(nbd_handle* h) { return in_state(h, HandleState::Created); }
NBDREF_EXPORT int nbd_aio_is_connecting(nbd_handle* h) {
  return in_state(h, HandleState::Connecting);
}
NBDREF_EXPORT int nbd_aio_is_negotiating(nbd_handle* h) {
  return in_state(h, HandleState::Negotiating);
}
NBDREF_EXPORT int nbd_aio_is_ready(nbd_handle* h) { return in_state(h, HandleState::Ready); }
NBDREF_EXPORT int nbd_aio_is_processing(nbd_handle* h) {
  return in_state(h, HandleState::Processing);
}
NBDREF_EXPORT int nbd_aio_is_dead(nbd_handle* h) { return in_state(h, HandleState::Dead); }
NBDREF_EXPORT int nbd_aio_is_closed(nbd_handle* h) { return in_state(h, HandleState::Closed); }

// ---- driving the connection ----

NBDREF_EXPORT int nbd_poll(nbd_handle* h, int timeout) {
  return entry("nbd_poll", -1, [&](const char* fn) {
    auto r = h->impl.poll(timeout);
    if (!r) {
      capi::set_error(fn, r.error());
      return -1;
    }
    return *r;
  });
}

NBDREF_EXPORT int nbd_aio_get_fd(nbd_handle* h) {
  return entry("nbd_aio_get_fd", -1, [&](const char* fn) {
    auto r = h->impl.fd();
    if (!r) {
      capi::set_error(fn, r.error());
      return -1;
    }
    return *r;
  });
}

NBDREF_EXPORT unsigned nbd_aio_get_direction(nbd_handle* h) { return h->impl.direction(); }

NBDREF_EXPORT int nbd_aio_notify_read(nbd_handle* h) {
  return entry("nbd_aio_notify_read", -1,
               [&](const char* fn) { return to_int(fn, h->impl.notify_read()); });
}

NBDREF_EXPORT int nbd_aio_notify_write(nbd_handle* h) {
  return entry("nbd_aio_notify_write", -1,
               [&](const char* fn) { return to_int(fn, h->impl.notify_write()); });
}

// ---- completion ----

NBDREF_EXPORT int nbd_aio_command_completed(nbd_handle* h, uint64_t cookie) {
  return entry("nbd_aio_command_completed", -1,
               [&](const char* fn) { return capi::to_bool(fn, h->impl.command_completed(cookie)); });
}

NBDREF_EXPORT int64_t nbd_aio_peek_command_completed(nbd_handle* h) {
  return entry("nbd_aio_peek_command_completed", int64_t{-1}, [&](const char* fn) -> int64_t {
    auto r = h->impl.peek_completed();
    if (!r) {
      capi::set_error(fn, r.error());
      return -1;
    }
    return *r;
  });
}

NBDREF_EXPORT int nbd_aio_in_flight(nbd_handle* h) {
  return entry("nbd_aio_in_flight", -1, [&](const char* fn) {
    const HandleState s = h->impl.state();
    if (s == HandleState::Created || s == HandleState::Connecting ||
        s == HandleState::Negotiating) {
      capi::set_error(fn, EINVAL,
                      std::string("invalid state: the handle is ") + handle::state_name(s) +
                          ", it must be connected, shut down or dead");
      return -1;
    }
    return static_cast<int>(h->impl.in_flight());
  });
}
