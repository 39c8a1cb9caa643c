// How values are written in a script: the one place that reads a value from
// its text and writes it back, shared by the parser, the printer and the
// builder so the three agree on every spelling.
//
//   Number    42, 0x2a, 64K (K/M/G/T, either case: binary multiples),
//             protocol names from the key's table (GO, NBD_OPT_GO,
//             send-flush), any of these joined by | (OR'd)
//   Text      "quoted", with \n \t \r \0 \" \\ \xHH
//   Bytes     hex:00ff (may be empty: hex:), "quoted text", zeros:N (N <= 1G)
//   Duration  250ms, 2s, 0
//   Extents   length:flags,length:flags,... (at least one)
//   Bool      yes, no (also true, false)
//   Word      one of the key's words
//   $name     an expectation captures the value; a sending step uses a
//             captured number
//   *         an expectation accepts anything
#pragma once

#include <cstdint>

#include <string>
#include <string_view>

#include <tl/expected.hpp>
#include "script/step.hpp"
#include "script/vocabulary.hpp"

namespace nbdref::mock::script {

// zeros:N and repeat:N:BYTES materialise their bytes: one value, and all
// the byte values of a script together, hold at most this many (64 MiB,
// twice the largest chunk a client must accept, C-SZ-007); more is a
// mistake, not a test, and would make parsing a script unbounded work.
inline constexpr std::uint64_t MAX_SCRIPT_BYTES = std::uint64_t{64} << 20;

// The value `token` spells for a key (or subject) of type `spec` in a step
// of `role`, or what is wrong with it ("'12x' is not a number"). Numbers
// and bytes not written plainly keep their spelling, so printing them gives
// back what was written.
tl::expected<Value, std::string> parse_value(std::string_view token, const ValueSpec& spec,
                                             Role role);

// `value` as parse_value() reads it back into an equal Value.
std::string format_value(const Value& value);

// `text` in double quotes, escaped so parse_value() reads back the same
// bytes; only printable ASCII is written as itself.
std::string quote_text(std::string_view text);

}  // namespace nbdref::mock::script
