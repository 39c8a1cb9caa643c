#include "transport/tcp_address.hpp"

#include <netdb.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace nbdref::transport {
namespace {

// C-HS-001 (proto.md "Newstyle negotiation"): IANA assigned port 10809 to NBD.
constexpr const char* kIanaNbdPort = "10809";

using AddressList = std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)>;

int lookup(const std::string& host, const std::string& service, int flags, AddressList& out) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = flags;
  addrinfo* list = nullptr;
  const int r = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &list);
  if (r == 0) out.reset(list);
  return r;
}

// getaddrinfo has its own error codes; callers of the C API expect errno values.
int errno_for(int gai_error) {
  switch (gai_error) {
    case EAI_MEMORY:
      return ENOMEM;
    case EAI_AGAIN:
      return EAGAIN;
    case EAI_SERVICE:
      return EINVAL;
    default:
      return ENXIO;
  }
}

std::string printable(const sockaddr* address, socklen_t length) {
  char host[NI_MAXHOST];
  char port[NI_MAXSERV];
  if (::getnameinfo(address, length, host, sizeof host, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return "(unprintable address of family " + std::to_string(address->sa_family) + ")";
  }
  if (address->sa_family == AF_INET6) return std::string("[") + host + "]:" + port;
  return std::string(host) + ":" + port;
}

}  // namespace

std::string nbd_service(const std::string& port) {
  return port.empty() ? kIanaNbdPort : port;
}

Result<std::vector<TcpAddress>> resolve_tcp(const std::string& host, const std::string& port) {
  std::string service = nbd_service(port);
  AddressList list(nullptr, &::freeaddrinfo);
  int r = lookup(host, service, AI_ADDRCONFIG, list);
  if (r == EAI_SERVICE && service == "nbd") {
    service = kIanaNbdPort;
    r = lookup(host, service, AI_ADDRCONFIG, list);
  }
  // AI_ADDRCONFIG does not count loopback addresses as configured, so on a
  // machine whose only IPv6 (or IPv4) address is loopback it hides "::1"
  // (or "127.0.0.1") itself. Asking again without it keeps such machines,
  // containers in particular, able to reach a local server.
  if (r == EAI_NONAME || r == EAI_ADDRFAMILY) r = lookup(host, service, 0, list);
  if (r != 0) {
    const int system_errno = errno;
    const std::string what = "cannot resolve " + host + " port " + service;
    if (r == EAI_SYSTEM) return failure(system_errno, with_strerror(what, system_errno));
    return failure(errno_for(r), what + ": " + ::gai_strerror(r));
  }

  std::vector<TcpAddress> addresses;
  for (const addrinfo* a = list.get(); a != nullptr; a = a->ai_next) {
    TcpAddress address{};
    std::memcpy(&address.storage, a->ai_addr, a->ai_addrlen);
    address.length = a->ai_addrlen;
    address.text = printable(a->ai_addr, a->ai_addrlen);
    addresses.push_back(std::move(address));
  }
  return addresses;
}

}  // namespace nbdref::transport
