// Appends big-endian fields to a growable byte buffer; the encoders' output.
#pragma once

#include <string_view>
#include <vector>

#include "wire/bytes.hpp"

namespace nbdref::wire {

class Writer {
 public:
  explicit Writer(std::vector<std::uint8_t>& out) : out_(out) {}

  void u8(std::uint8_t v) { out_.push_back(v); }
  void be16(std::uint16_t v) { store_be16(grow(2), v); }
  void be32(std::uint32_t v) { store_be32(grow(4), v); }
  void be64(std::uint64_t v) { store_be64(grow(8), v); }
  void bytes(Bytes b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void string(std::string_view s) { bytes(as_bytes(s)); }
  void zeroes(std::size_t n) { out_.insert(out_.end(), n, 0); }

  std::size_t size() const { return out_.size(); }

 private:
  std::uint8_t* grow(std::size_t n) {
    out_.resize(out_.size() + n);
    return out_.data() + out_.size() - n;
  }

  std::vector<std::uint8_t>& out_;
};

}  // namespace nbdref::wire
