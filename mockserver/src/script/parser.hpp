// Script text to Script. The format, line by line:
//
//   # a comment, to the end of the line
//   greeting newstyle flags=FIXED_NEWSTYLE|NO_ZEROES
//   expect option GO name="disk"
//   reply GO info export size=1M flags=HAS_FLAGS|SEND_FLUSH
//   expect request READ cookie=$c offset=0 length=512
//   chunk data cookie=$c flags=DONE data=zeros:512
//   repeat 3 {
//     raw hex:00ff
//   }
//
// A step is its form's words (vocabulary.hpp) with a value in each
// <placeholder>, then key=value arguments; a quoted value may hold spaces
// and #. Blocks open with { at the end of the line of a step whose form
// takes one (repeat and fragments must, serve may) and close with } alone
// on a line; a serve block holds export steps, which stand nowhere else.
// Values (value_syntax.hpp): numbers (42, 0x2a, 64K, 1M, 2G, 1T), protocol
// names joined by | (SEND_FLUSH|SEND_FUA), "text" with escapes (\n \t \r
// \0 \" \\ \xHH), bytes (hex:0a0b, "text", zeros:N, repeat:N:BYTES), durations (250ms,
// 2s), extents (4096:0,512:3), yes/no, $name, and * in expectations.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <tl/expected.hpp>
#include "script/step.hpp"

namespace nbdref::mock::script {

struct ParseError {
  Location where;       // the offending token (of a key=value, its value when that is wrong)
  std::string message;  // what is wrong, without the location
  // "script.nbd:12:7: unknown key 'sizee' for 'reply <option> info export'"
  std::string describe(std::string_view source_name) const;
};

// The script in `text`, or the first error in it.
tl::expected<Script, ParseError> parse_script(std::string_view text);

}  // namespace nbdref::mock::script
