// Turning bytes a server chose (export names, error messages, descriptions)
// into text that is safe to print, put in XML or JSON, and short enough to
// read: valid UTF-8 is kept, anything else becomes a \xNN escape.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace nbdref::conform {

// `s` in double quotes, with control characters, quotes, backslashes and
// bytes that are not valid UTF-8 escaped; cut after `max_bytes` input bytes
// with a note of the full length: "\"abc\"...(5000 bytes)".
std::string quoted(std::string_view s, std::size_t max_bytes = 64);

// Whether `s` is entirely valid UTF-8 (no overlong forms, surrogates or
// code points above U+10FFFF).
bool is_valid_utf8(std::string_view s);

// `s` as valid UTF-8 with no control characters other than newline and tab:
// every other control byte and every byte that is not part of a valid UTF-8
// sequence becomes "\xNN".
std::string safe_text(std::string_view s);

}  // namespace nbdref::conform
