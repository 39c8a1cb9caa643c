// A bounds-checked cursor over received bytes. Reads never go past the span:
// the first short read records an error naming the field, later reads return
// zero, and finish() reports that error or any trailing bytes.
#pragma once

#include <optional>
#include <string>

#include "wire/bytes.hpp"
#include "wire/decode_error.hpp"

namespace nbdref::wire {

class Reader {
 public:
  explicit Reader(Bytes data) : data_(data) {}

  std::uint8_t u8(const char* field);
  std::uint16_t be16(const char* field);
  std::uint32_t be32(const char* field);
  std::uint64_t be64(const char* field);
  // The next n bytes (an empty span after a short read).
  Bytes take(std::size_t n, const char* field);
  // Everything not yet read.
  Bytes rest();

  std::size_t remaining() const { return data_.size() - pos_; }
  bool ok() const { return !error_; }
  const std::optional<DecodeError>& error() const { return error_; }

  // Records a semantic error found by the caller (keeps the first one).
  void fail(DecodeError e);

  // The first error, or an error if bytes are left over after `message`.
  std::optional<DecodeError> finish(const char* message) const;

 private:
  const std::uint8_t* advance(std::size_t n, const char* field);

  Bytes data_;
  std::size_t pos_ = 0;
  std::optional<DecodeError> error_;
};

// The size check every fixed-layout decoder starts with: an error naming
// `message` unless `b` holds exactly `size` bytes.
std::optional<DecodeError> expect_size(Bytes b, std::size_t size, const char* message);

}  // namespace nbdref::wire
