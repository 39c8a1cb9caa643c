#include "script/value_syntax.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

namespace nbdref::mock::script {
namespace {

using Error = tl::unexpected<std::string>;

constexpr std::uint64_t MAX = std::numeric_limits<std::uint64_t>::max();
constexpr std::string_view HEX_DIGITS = "0123456789abcdef";

std::string quoted(std::string_view s) {
  return "'" + std::string(s) + "'";
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

std::optional<unsigned> hex_digit(char c) {
  if (c >= '0' && c <= '9') return static_cast<unsigned>(c - '0');
  if (c >= 'a' && c <= 'f') return static_cast<unsigned>(c - 'a' + 10);
  if (c >= 'A' && c <= 'F') return static_cast<unsigned>(c - 'A' + 10);
  return std::nullopt;
}

bool is_name_char(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

// What a table's names are called in messages.
std::string_view noun(Symbols symbols) {
  switch (symbols) {
    case Symbols::None:
      return "";
    case Symbols::HandshakeFlags:
      return "handshake flag";
    case Symbols::ClientFlags:
      return "client flag";
    case Symbols::TransmissionFlags:
      return "transmission flag";
    case Symbols::Options:
      return "option";
    case Symbols::OptionReplies:
      return "option reply type";
    case Symbols::ErrorReplies:
      return "error reply";
    case Symbols::InfoTypes:
      return "information type";
    case Symbols::Commands:
      return "command";
    case Symbols::CommandFlags:
      return "command flag";
    case Symbols::ReplyFlags:
      return "reply flag";
    case Symbols::ReplyTypes:
      return "reply type";
    case Symbols::Errors:
      return "error";
  }
  return "";
}

// A literal: decimal or 0x hex digits, then an optional K, M, G or T
// (binary multiples, either case).
tl::expected<std::uint64_t, std::string> parse_literal(std::string_view s) {
  unsigned base = 10;
  std::size_t i = 0;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    i = 2;
  }
  const std::size_t first_digit = i;
  std::uint64_t value = 0;
  bool overflow = false;
  for (; i < s.size(); ++i) {
    const auto d = hex_digit(s[i]);
    if (!d || *d >= base) break;
    if (value > (MAX - *d) / base) overflow = true;
    if (!overflow) value = value * base + *d;
  }
  if (i == first_digit) return Error("bad number " + quoted(s));
  unsigned shift = 0;
  if (i + 1 == s.size()) {
    switch (s[i]) {
      case 'K':
      case 'k':
        shift = 10;
        break;
      case 'M':
      case 'm':
        shift = 20;
        break;
      case 'G':
      case 'g':
        shift = 30;
        break;
      case 'T':
      case 't':
        shift = 40;
        break;
      default:
        return Error("bad number " + quoted(s));
    }
  } else if (i != s.size()) {
    return Error("bad number " + quoted(s));
  }
  if (overflow || value > (MAX >> shift)) {
    return Error("number " + quoted(s) + " does not fit in 64 bits");
  }
  return value << shift;
}

// Literals and names of `symbols` joined by |, OR'd together.
tl::expected<std::uint64_t, std::string> parse_number(std::string_view token, Symbols symbols) {
  std::uint64_t value = 0;
  std::string_view rest = token;
  while (true) {
    const std::size_t bar = rest.find('|');
    const std::string_view part = rest.substr(0, bar);
    if (part.empty()) return Error("empty name or number in " + quoted(token));
    if (is_digit(part[0])) {
      const auto literal = parse_literal(part);
      if (!literal) return literal;
      value |= *literal;
    } else if (const auto symbol = resolve_symbol(symbols, part)) {
      value |= *symbol;
    } else if (symbols == Symbols::None) {
      return Error("bad number " + quoted(part));
    } else {
      return Error(quoted(part) + " is not a number or a known " + std::string(noun(symbols)));
    }
    if (bar == std::string_view::npos) return value;
    rest.remove_prefix(bar + 1);
  }
}

tl::expected<Value, std::string> parse_number_value(std::string_view token, Symbols symbols) {
  const auto n = parse_number(token, symbols);
  if (!n) return Error(n.error());
  // Plain decimal prints the same from the number alone.
  const bool plain = std::all_of(token.begin(), token.end(), is_digit);
  return Value::of_number(*n, plain ? std::string() : std::string(token));
}

// The text inside double quotes, escapes decoded.
tl::expected<std::string, std::string> unquote(std::string_view token) {
  if (token.empty() || token[0] != '"') {
    return Error("text is written in double quotes, not " + quoted(token));
  }
  std::string out;
  for (std::size_t i = 1; i < token.size(); ++i) {
    const char c = token[i];
    if (c == '"') {
      if (i + 1 != token.size()) return Error("unexpected text after the closing quote");
      return out;
    }
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i == token.size()) break;
    switch (token[i]) {
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case '0':
        out += '\0';
        break;
      case '"':
      case '\\':
        out += token[i];
        break;
      case 'x': {
        const auto hi = i + 1 < token.size() ? hex_digit(token[i + 1]) : std::nullopt;
        const auto lo = i + 2 < token.size() ? hex_digit(token[i + 2]) : std::nullopt;
        if (!hi || !lo) return Error("\\x takes two hex digits");
        out += static_cast<char>(*hi * 16 + *lo);
        i += 2;
        break;
      }
      default:
        return Error("unknown escape \\" + std::string(1, token[i]));
    }
  }
  return Error("unterminated quote");
}

tl::expected<Value, std::string> parse_bytes(std::string_view token) {
  constexpr std::string_view HEX = "hex:";
  constexpr std::string_view ZEROS = "zeros:";
  constexpr std::string_view REPEAT = "repeat:";
  if (token.starts_with(HEX)) {
    const std::string_view digits = token.substr(HEX.size());
    if (digits.size() % 2 != 0) return Error("odd number of hex digits in " + quoted(token));
    std::vector<std::uint8_t> bytes;
    bytes.reserve(digits.size() / 2);
    for (std::size_t i = 0; i < digits.size(); i += 2) {
      const auto hi = hex_digit(digits[i]);
      const auto lo = hex_digit(digits[i + 1]);
      if (!hi || !lo) return Error("bad hex digit in " + quoted(token));
      bytes.push_back(static_cast<std::uint8_t>(*hi * 16 + *lo));
    }
    return Value::of_bytes(std::move(bytes));
  }
  if (token.starts_with(ZEROS)) {
    const auto n = parse_literal(token.substr(ZEROS.size()));
    if (!n) return Error(n.error());
    if (*n > MAX_SCRIPT_BYTES) return Error(quoted(token) + " is more than zeros:64M");
    return Value::of_bytes(std::vector<std::uint8_t>(*n), std::string(token));
  }
  if (token.starts_with(REPEAT)) {
    // repeat:N:BYTES, for payloads too long to write out (a status chunk
    // of a million descriptors).
    const std::string_view rest = token.substr(REPEAT.size());
    const std::size_t colon = rest.find(':');
    if (colon == std::string_view::npos) {
      return Error("repeated bytes are written repeat:N:BYTES, not " + quoted(token));
    }
    const auto n = parse_literal(rest.substr(0, colon));
    if (!n) return Error(n.error());
    const auto unit = parse_bytes(rest.substr(colon + 1));
    if (!unit) return unit;
    if (unit->bytes.empty()) return Error(quoted(token) + " repeats no bytes");
    if (*n > MAX_SCRIPT_BYTES / unit->bytes.size()) {
      return Error(quoted(token) + " is more than 64M");
    }
    std::vector<std::uint8_t> bytes;
    bytes.reserve(*n * unit->bytes.size());
    for (std::uint64_t i = 0; i < *n; ++i) {
      bytes.insert(bytes.end(), unit->bytes.begin(), unit->bytes.end());
    }
    return Value::of_bytes(std::move(bytes), std::string(token));
  }
  if (token.starts_with('"')) {
    const auto text = unquote(token);
    if (!text) return Error(text.error());
    return Value::of_bytes(std::vector<std::uint8_t>(text->begin(), text->end()),
                           std::string(token));
  }
  return Error("bytes are written hex:00ff, \"text\", zeros:N or repeat:N:BYTES, not " +
               quoted(token));
}

tl::expected<Value, std::string> parse_duration(std::string_view token) {
  if (token == "0") return Value::of_duration_ms(0);
  std::uint64_t scale = 0;
  std::string_view digits;
  if (token.ends_with("ms")) {
    scale = 1;
    digits = token.substr(0, token.size() - 2);
  } else if (token.ends_with('s')) {
    scale = 1000;
    digits = token.substr(0, token.size() - 1);
  }
  if (scale == 0 || digits.empty() || !std::all_of(digits.begin(), digits.end(), is_digit)) {
    return Error("bad duration " + quoted(token) + "; write 250ms, 2s or 0");
  }
  const auto n = parse_literal(digits);
  if (!n || *n > MAX / scale) return Error("duration " + quoted(token) + " is too long");
  return Value::of_duration_ms(*n * scale);
}

tl::expected<Value, std::string> parse_extents(std::string_view token) {
  std::vector<ExtentSpec> extents;
  std::string_view rest = token;
  while (true) {
    const std::size_t comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    const std::size_t colon = item.find(':');
    if (colon == std::string_view::npos) {
      return Error("bad extent " + quoted(item) + "; write length:flags,length:flags,...");
    }
    const auto length = parse_number(item.substr(0, colon), Symbols::None);
    if (!length) return Error(length.error());
    const auto flags = parse_number(item.substr(colon + 1), Symbols::None);
    if (!flags) return Error(flags.error());
    if (*flags > std::numeric_limits<std::uint32_t>::max()) {
      return Error("extent flags in " + quoted(item) + " do not fit in 32 bits");
    }
    extents.push_back({*length, static_cast<std::uint32_t>(*flags)});
    if (comma == std::string_view::npos) return Value::of_extents(std::move(extents));
    rest.remove_prefix(comma + 1);
  }
}

tl::expected<Value, std::string> parse_bool(std::string_view token) {
  if (token == "yes" || token == "true") return Value::of_bool(true);
  if (token == "no" || token == "false") return Value::of_bool(false);
  return Error(quoted(token) + " is not yes or no");
}

tl::expected<Value, std::string> parse_word(std::string_view token, const ValueSpec& spec) {
  if (std::find(spec.words.begin(), spec.words.end(), token) != spec.words.end()) {
    return Value::of_word(std::string(token));
  }
  std::string words;
  for (std::string_view w : spec.words) words += (words.empty() ? "" : ", ") + std::string(w);
  return Error(quoted(token) + " is not one of " + words);
}

// $name: captured by an expectation, or a captured number in a send.
tl::expected<Value, std::string> parse_variable(std::string_view token, const ValueSpec& spec,
                                                Role role) {
  const std::string_view name = token.substr(1);
  if (name.empty() || !std::all_of(name.begin(), name.end(), is_name_char)) {
    return Error("bad variable " + quoted(token) + "; names are letters, digits and _");
  }
  if (role == Role::Control) return Error("variables belong in expectations and sending steps");
  if (role == Role::Send && spec.type != ValueType::Number) {
    return Error("a sending step can use a variable only for a number");
  }
  return Value::variable(std::string(name));
}

std::string hex_of(const std::vector<std::uint8_t>& bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out += HEX_DIGITS[b >> 4];
    out += HEX_DIGITS[b & 0xf];
  }
  return out;
}

std::string format_duration(std::uint64_t ms) {
  if (ms == 0) return "0";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::string format_extents(const std::vector<ExtentSpec>& extents) {
  std::string out;
  for (const ExtentSpec& e : extents) {
    if (!out.empty()) out += ',';
    out += std::to_string(e.length) + ':' + std::to_string(e.flags);
  }
  return out;
}

}  // namespace

tl::expected<Value, std::string> parse_value(std::string_view token, const ValueSpec& spec,
                                             Role role) {
  if (token.empty()) return Error("missing value");
  if (token == "*") {
    if (role != Role::Expect) return Error("wildcards belong in expectations");
    return Value::wildcard();
  }
  if (token[0] == '$') return parse_variable(token, spec, role);
  switch (spec.type) {
    case ValueType::Number:
      return parse_number_value(token, spec.symbols);
    case ValueType::Text: {
      auto text = unquote(token);
      if (!text) return Error(text.error());
      return Value::of_text(std::move(*text));
    }
    case ValueType::Bytes:
      return parse_bytes(token);
    case ValueType::Duration:
      return parse_duration(token);
    case ValueType::Extents:
      return parse_extents(token);
    case ValueType::Bool:
      return parse_bool(token);
    case ValueType::Word:
      return parse_word(token, spec);
  }
  return Error("a value of unknown type");
}

std::string format_value(const Value& value) {
  switch (value.kind) {
    case Value::Kind::Number:
      return value.spelling.empty() ? std::to_string(value.number) : value.spelling;
    case Value::Kind::Text:
      return quote_text(value.text);
    case Value::Kind::Bytes:
      return value.spelling.empty() ? "hex:" + hex_of(value.bytes) : value.spelling;
    case Value::Kind::Duration:
      return format_duration(value.number);
    case Value::Kind::Extents:
      return format_extents(value.extents);
    case Value::Kind::Bool:
      return value.number != 0 ? "yes" : "no";
    case Value::Kind::Word:
      return value.text;
    case Value::Kind::Variable:
      return "$" + value.text;
    case Value::Kind::Wildcard:
      return "*";
  }
  return {};
}

std::string quote_text(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\0':
        out += "\\0";
        break;
      default:
        if (byte < 0x20 || byte >= 0x7f) {
          out += "\\x";
          out += HEX_DIGITS[byte >> 4];
          out += HEX_DIGITS[byte & 0xf];
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

}  // namespace nbdref::mock::script
