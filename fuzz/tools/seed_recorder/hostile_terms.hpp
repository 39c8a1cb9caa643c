// How a hostile-server script's `#@` header (mockserver/tests/
// hostile_header.hpp) -- the settings and actions our client is tested
// with against that server -- becomes the fuzz targets' terms: the
// handshake target's four configuration bytes, byte 0 of the transmission
// target's, and a transmission plan. The targets say less than the C API
// can: what they cannot say is listed in `notes`, and the recording then
// follows what the bytes say (it is always the conversation the seed
// replays, whether or not the script liked it).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "hostile_header.hpp"
#include "transmission_plan.hpp"

namespace nbdref::fuzz::recorder {

struct HostileTerms {
  std::array<std::uint8_t, 4> handshake_config{};
  std::uint8_t transmission_features = 0;
  std::vector<PlanStep> plan;  // empty: the actions never reach transmission
  std::vector<std::string> notes;
};

HostileTerms hostile_terms(const mock::hostile::ScriptHeader& header);

}  // namespace nbdref::fuzz::recorder
