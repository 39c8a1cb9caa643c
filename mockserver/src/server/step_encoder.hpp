// Turns one sending step and the conversation so far into the bytes it
// puts on the wire (internal to server/). The normal shape of each message
// comes from the client's wire encoders; a key that overrides a field
// (magic=, type=, length=, name-length=, count=, message-length=, ...)
// then rewrites that field in place, so a script can break any field of
// any message on purpose.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "server/play_support.hpp"

namespace nbdref::mock::playback {

struct Encoded {
  std::vector<std::uint8_t> bytes;
  // In protocol terms, for the transcript: "NBD_REP_INFO for NBD_OPT_GO:
  // NBD_INFO_EXPORT size 1048576 flags NBD_FLAG_HAS_FLAGS".
  std::string description;

  // What sending it does to the conversation (apply_sent()).
  std::optional<Phase> next_phase;
  bool oldstyle = false;
  std::optional<std::uint16_t> greeting_flags;
  bool structured = false;  // NBD_REP_ACK to NBD_OPT_STRUCTURED_REPLY
  bool extended = false;    // NBD_REP_ACK to NBD_OPT_EXTENDED_HEADERS
  std::optional<std::uint32_t> allocation_id;
};

// The bytes of a sending step (StepKind GreetingNewstyle ... Raw).
Result<Encoded> encode_step(const Step& step, const Conversation& conversation);
// Records in `conversation` what sending `e` changed.
void apply_sent(const Encoded& e, Conversation& conversation);

}  // namespace nbdref::mock::playback
