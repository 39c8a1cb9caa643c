// Loopback TCP ports for test servers. A port is free when picked but another
// process may take it before our server binds, so every caller retries with a
// new port when the server reports the collision.
#pragma once

#include <cstdint>
#include <string_view>

namespace nbdref::test {

// How many ports a server start tries before giving up.
inline constexpr int kMaxPortAttempts = 5;

// A port on 127.0.0.1 that nothing was bound to a moment ago: the kernel picks
// it for a socket bound to port 0, which is then closed. Throws
// std::runtime_error if no socket can be bound.
std::uint16_t pick_free_tcp_port();

// Whether a server's output says its port was taken (EADDRINUSE). Servers run
// with LC_ALL=C, so the message is the C library's English one.
bool reports_address_in_use(std::string_view server_output);

}  // namespace nbdref::test
