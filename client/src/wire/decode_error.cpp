#include "wire/decode_error.hpp"

#include <cstdio>

namespace nbdref::wire {

std::string DecodeError::to_string() const {
  std::string out = field;
  if (value) {
    // Small numbers (lengths, types, counts) read best in decimal; magics in hex.
    char buf[32];
    const auto v = static_cast<unsigned long long>(*value);
    std::snprintf(buf, sizeof buf, v < 0x10000 ? " %llu" : " %#llx", v);
    out += buf;
  }
  out += ": ";
  out += problem;
  if (clause) {
    out += " [";
    out += clause;
    out += "]";
  }
  return out;
}

}  // namespace nbdref::wire
