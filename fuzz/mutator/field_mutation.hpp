// New values for a message's fields: the protocol's numbers for the field's
// role, the value that makes a length agree with the payload, boundaries of
// the field's width (0, 1, 2^31, 0xffffffff, the maximum...), small steps
// from the current value, and random bits.
#pragma once

#include <cstdint>
#include <optional>

#include "mutator/message_fields.hpp"
#include "mutator/random.hpp"
#include "mutator/stream_facts.hpp"

namespace nbdref::fuzz::mutator {

// The value of a length-like field that agrees with the payload present:
// the header's length, an error chunk's message length, an extended block
// status descriptor count, a server reply's name length (the whole rest).
std::optional<std::uint64_t> consistent_value(const Message& m, const Field& f);

// Gives `f` of `m` a value different from its current one; nothing else changes.
void mutate_field(Message& m, const Field& f, Random& random, const StreamFacts& facts);

}  // namespace nbdref::fuzz::mutator
