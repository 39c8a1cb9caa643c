// The error every wire decoder returns: which field was wrong, with what
// value, and which clause of the spec it breaks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <tl/expected.hpp>

namespace nbdref::wire {

struct DecodeError {
  std::string field;                   // e.g. "option reply magic"
  std::optional<std::uint64_t> value;  // the offending value, when it is a number
  std::string problem;                 // what is wrong with it, e.g. "expected 0x3e889045565a9"
  const char* clause = nullptr;        // id from clauses.tsv, or nullptr for pure framing errors

  // "option reply magic 0x1234: expected 0x3e889045565a9 [S-OPT-020]"
  std::string to_string() const;
};

template <class T>
using Decoded = tl::expected<T, DecodeError>;

inline tl::unexpected<DecodeError> decode_failure(std::string field,
                                                  std::optional<std::uint64_t> value,
                                                  std::string problem,
                                                  const char* clause = nullptr) {
  return tl::unexpected(DecodeError{std::move(field), value, std::move(problem), clause});
}

}  // namespace nbdref::wire
