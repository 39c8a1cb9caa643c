// Recognising UTF-8 in text from the server. The NBD specification does not
// make every string the server sends UTF-8 (descriptions, for one), so the
// tool checks before it prints.
#pragma once

#include <cstddef>
#include <string_view>

namespace nbdref::info {

// The length (2 to 4) of the valid multi-byte UTF-8 sequence at the start
// of `text`, or 0 when it does not start with one (ASCII included).
std::size_t utf8_sequence_length(std::string_view text);

}  // namespace nbdref::info
