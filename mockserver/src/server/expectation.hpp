// Reads what the client sends for one expectation step and checks it
// (internal to server/): expect client-flags, expect option, expect request
// and expect eof. Keys written as values must match; `*` accepts anything;
// `$name` captures the client's value (binding the variable anew each time
// the step runs, so a step in a repeat block captures on every round).
// Keys not written accept anything, except the magics, which must be the
// protocol's (magic=* accepts any).
#pragma once

#include <chrono>

#include "server/channel.hpp"
#include "server/play_support.hpp"
#include "server/transcript.hpp"

namespace nbdref::mock::playback {

struct ExpectContext {
  Channel& channel;
  Transcript* transcript = nullptr;
  std::chrono::milliseconds default_timeout{10'000};
};

// Runs the expectation `step`, updating `conversation` (client flags, last
// option, last request, export name, variables) with what was read.
Result<void> run_expectation(const Step& step, Conversation& conversation,
                             const ExpectContext& context);

}  // namespace nbdref::mock::playback
