// Seeds of the "transmission" target. The target makes up its own honest
// handshake from its configuration bytes, so the recorder negotiates for
// real first, then writes the bytes that make the target's handshake agree
// with the real one: byte 0 as asked but with the reply forms and contexts
// the server granted, the export's transmission flags and its size.
// Then it follows the plan, each step written down as the operations that
// replay it (submit, send, and receive with the server's very bytes, its
// context ids renumbered as the target's handshake numbers them), and
// replays the seed as the target does: the same bytes must go out and
// every command must come out the same.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "handshake_setup.hpp"
#include "recording.hpp"
#include "server_link.hpp"
#include "transmission_plan.hpp"

namespace nbdref::fuzz::recorder {

// `features` is byte 0 of the configuration as wanted; the client
// negotiates as `negotiation` says, with byte 0's strictness and
// pread_initialize.
Recording record_transmission(ServerLink& link, handshake::Setup negotiation, std::uint8_t features,
                              const std::vector<PlanStep>& plan, std::chrono::milliseconds quiet);

}  // namespace nbdref::fuzz::recorder
