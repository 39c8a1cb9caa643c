// What the recorder does in transmission, written on its command line:
//   "write:0:4096+fua read:0:8192 wait status:0:65536+req-one wait disc"
// Commands are READ, WRITE, FLUSH, TRIM, CACHE, WRITE_ZEROES and
// BLOCK_STATUS as read:OFFSET:LENGTH, write:..., flush, trim:..., cache:...,
// zero:..., status:..., each with +fua +no-hole +df +req-one +fast-zero
// flags as wanted; they are submitted together until a step waits:
//   wait         send them, and receive until none is in flight
//   disc         NBD_CMD_DISC (disc+abandon abandons unsent commands),
//                then receive until the server closes
// Offsets and lengths are what the target's operations can say: 32 and
// 16 bits.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "transmission_input.hpp"

namespace nbdref::fuzz::recorder {

struct PlanStep {
  enum class Kind { Submit, Wait, Disconnect };
  Kind kind = Kind::Wait;
  transmission::SubmitFields submit{};  // Submit
  bool abandon = false;                 // Disconnect
};

// The steps, or what is wrong with the first one that is not a step.
tl::expected<std::vector<PlanStep>, std::string> parse_plan(std::string_view text);

}  // namespace nbdref::fuzz::recorder
