// Readiness of a test server: the server is ready once it has a socket
// listening on its endpoint, because from then on the kernel completes every
// connection even before the server calls accept().
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>

#include "support/endpoint.hpp"

namespace nbdref::test {

// Whether process `pid` holds a socket that listens on `endpoint`, found
// through /proc/net/{tcp,unix} and /proc/PID/fd. Asking about the owner rather
// than just connecting matters for TCP: when another process took the port
// first, a probe connection would reach that process and the test would talk
// to the wrong server.
bool process_listens_on(pid_t pid, const Endpoint& endpoint);

// How long a server may take to start listening. Servers here listen within
// tens of milliseconds; the margin is for a loaded CI machine.
inline constexpr std::chrono::milliseconds kReadyTimeout{10'000};

enum class Readiness { Listening, Exited, TimedOut };

// Polls every few milliseconds until `pid` listens on `endpoint` (Listening),
// `has_exited()` says the server is gone (Exited), or `limit` passes
// (TimedOut).
Readiness wait_until_listening(pid_t pid, const Endpoint& endpoint,
                               const std::function<bool()>& has_exited,
                               std::chrono::milliseconds limit = kReadyTimeout);

}  // namespace nbdref::test
