// Name resolution for the TCP connect method: a host and port become the
// list of socket addresses to try, each with a printable form for messages.
#pragma once

#include <sys/socket.h>

#include <string>
#include <vector>

#include "error/error.hpp"

namespace nbdref::transport {

struct TcpAddress {
  sockaddr_storage storage;
  socklen_t length;
  std::string text;  // numeric, with the port: "127.0.0.1:10809", "[::1]:10809"
};

// The port to connect to: an empty port means the IANA NBD port.
std::string nbd_service(const std::string& port);

// Every address getaddrinfo gives for host and nbd_service(port), IPv4 and
// IPv6, in the order it gives them. "nbd" means 10809 even where
// /etc/services lacks it. Errors: errno-style numbers for getaddrinfo's
// failures (ENXIO for an unknown host, EINVAL for an unknown service, EAGAIN
// for a temporary failure, ENOMEM, or the system error), with a message
// naming host and port.
Result<std::vector<TcpAddress>> resolve_tcp(const std::string& host, const std::string& port);

}  // namespace nbdref::transport
