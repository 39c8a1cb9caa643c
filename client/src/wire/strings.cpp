#include "wire/strings.hpp"

#include "wire/limits.hpp"

namespace nbdref::wire {

std::optional<DecodeError> check_string(std::string_view s, const char* field, StringRules rules) {
  if (s.size() > MAX_STRING_LENGTH) {
    return DecodeError{std::string(field) + " length", s.size(),
                       "strings may not exceed 4096 bytes", rules.max_length_clause};
  }
  if (auto nul = s.find('\0'); nul != std::string_view::npos) {
    return DecodeError{std::string(field) + " byte", nul, "is a NUL, which strings may not contain",
                       rules.no_nul_clause};
  }
  return std::nullopt;
}

}  // namespace nbdref::wire
