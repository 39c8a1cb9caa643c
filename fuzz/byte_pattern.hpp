// Byte patterns the fuzz targets fill and check their callers' buffers
// with (tracked_command.hpp, client_socket.cpp): each built once, so a
// buffer is filled or checked with one memcpy or memcmp, which the fuzzer's
// instrumentation sees as one call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace nbdref::fuzz {

// Fuzzed commands carry 16-bit lengths, so every buffer fits.
inline constexpr std::size_t PATTERN_SIZE = 0xffff;

// PATTERN_SIZE bytes, byte(i) at i.
template <std::uint8_t (*byte)(std::size_t)>
const std::uint8_t* pattern() {
  static const std::vector<std::uint8_t> bytes = [] {
    std::vector<std::uint8_t> b(PATTERN_SIZE);
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = byte(i);
    return b;
  }();
  return bytes.data();
}

inline std::uint8_t zero_byte(std::size_t) {
  return 0;
}
// What a buffer holds once its command has completed.
inline std::uint8_t canary_byte(std::size_t i) {
  return static_cast<std::uint8_t>(i * 31 + 7);
}

}  // namespace nbdref::fuzz
