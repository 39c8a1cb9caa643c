#include "probe/printable.hpp"

#include <cstdint>
#include <cstdio>

namespace nbdref::conform {
namespace {

// Length of the valid UTF-8 sequence starting at s[i] (1 to 4), or 0 when
// the bytes there are not one (overlong forms, surrogates and code points
// above U+10FFFF included).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<std::uint8_t>(s[k]); };
  const std::uint8_t b0 = byte(i);
  if (b0 < 0x80) return 1;
  std::size_t n = 0;
  std::uint32_t cp = 0;
  std::uint32_t min = 0;
  if ((b0 & 0xe0) == 0xc0) {
    n = 2, cp = b0 & 0x1f, min = 0x80;
  } else if ((b0 & 0xf0) == 0xe0) {
    n = 3, cp = b0 & 0x0f, min = 0x800;
  } else if ((b0 & 0xf8) == 0xf0) {
    n = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

void append_escape(std::string& out, std::uint8_t b) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\x%02x", b);
  out += buf;
}

// Appends the character at s[i] to `out`, escaped as needed, and returns
// how many input bytes it took. In quoting mode quotes and backslashes are
// escaped and newlines and tabs too; otherwise those two are kept.
std::size_t append_character(std::string& out, std::string_view s, std::size_t i, bool quoting) {
  const auto b = static_cast<std::uint8_t>(s[i]);
  if (quoting && (b == '"' || b == '\\')) {
    out += '\\';
    out += static_cast<char>(b);
    return 1;
  }
  if (!quoting && (b == '\n' || b == '\t')) {
    out += static_cast<char>(b);
    return 1;
  }
  if (b < 0x20 || b == 0x7f) {
    append_escape(out, b);
    return 1;
  }
  if (const std::size_t n = utf8_sequence_length(s, i); n > 0) {
    out.append(s.substr(i, n));
    return n;
  }
  append_escape(out, b);
  return 1;
}

}  // namespace

bool is_valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t n = utf8_sequence_length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string quoted(std::string_view s, std::size_t max_bytes) {
  std::string out = "\"";
  std::size_t i = 0;
  while (i < s.size() && i < max_bytes) i += append_character(out, s, i, true);
  out += '"';
  if (i < s.size()) out += "...(" + std::to_string(s.size()) + " bytes)";
  return out;
}

std::string safe_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) i += append_character(out, s, i, false);
  return out;
}

}  // namespace nbdref::conform
