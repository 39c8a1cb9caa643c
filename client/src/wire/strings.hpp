// The protocol's rules for strings (proto.md "Conventions"): no NUL byte and
// at most 4096 bytes. Which clause applies depends on who sent the string.
#pragma once

#include <optional>
#include <string_view>

#include "wire/decode_error.hpp"

namespace nbdref::wire {

struct StringRules {
  const char* no_nul_clause;      // S-GEN-001 for server strings, C-GEN-001 for client strings
  const char* max_length_clause;  // S-GEN-003 / C-GEN-003
};
inline constexpr StringRules SERVER_STRING{"S-GEN-001", "S-GEN-003"};
inline constexpr StringRules CLIENT_STRING{"C-GEN-001", "C-GEN-003"};

// An error naming `field` when `s` breaks the rules, otherwise nullopt.
std::optional<DecodeError> check_string(std::string_view s, const char* field, StringRules rules);

}  // namespace nbdref::wire
