// A fuzz input read as a sequence of choices, front to back: each read takes
// the bytes it needs, and an exhausted input reads as zeros, so every byte
// string is a valid input and the fuzzer never wastes one on a format error.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

namespace nbdref::fuzz {

class FuzzInput {
 public:
  explicit FuzzInput(std::span<const std::uint8_t> data) : data_(data) {}

  bool empty() const { return data_.empty(); }

  std::uint8_t byte() {
    if (data_.empty()) return 0;
    const std::uint8_t b = data_.front();
    data_ = data_.subspan(1);
    return b;
  }
  std::uint16_t be16() {
    const unsigned high = byte();
    return static_cast<std::uint16_t>((high << 8) | byte());
  }
  std::uint32_t be32() {
    const std::uint32_t high = be16();
    return (high << 16) | be16();
  }
  // Up to `n` bytes, fewer when the input ends first.
  std::span<const std::uint8_t> take(std::size_t n) {
    const auto part = data_.first(std::min(n, data_.size()));
    data_ = data_.subspan(part.size());
    return part;
  }
  // Everything not read yet.
  std::span<const std::uint8_t> rest() { return take(data_.size()); }

 private:
  std::span<const std::uint8_t> data_;
};

}  // namespace nbdref::fuzz
