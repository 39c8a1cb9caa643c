// Seeds of the "handshake" target: the client configured by four bytes
// negotiates with a server, and the seed is the bytes, then everything the
// server sent until the client was done (in transmission, ended, or
// waiting for an option it was not given). Before it is handed out, the
// seed is replayed one byte at a time as the target plays it, and must
// make the client send exactly what it sent in the conversation.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>

#include "recording.hpp"
#include "server_link.hpp"

namespace nbdref::fuzz::recorder {

Recording record_handshake(ServerLink& link, const std::array<std::uint8_t, 4>& config,
                           std::chrono::milliseconds quiet);

}  // namespace nbdref::fuzz::recorder
