#include "wire/reader.hpp"

namespace nbdref::wire {

const std::uint8_t* Reader::advance(std::size_t n, const char* field) {
  if (error_) return nullptr;
  if (n > remaining()) {
    error_ = DecodeError{
        field, n,
        "needs that many bytes but only " + std::to_string(remaining()) + " remain in the message",
        nullptr};
    return nullptr;
  }
  const std::uint8_t* p = data_.data() + pos_;
  pos_ += n;
  return p;
}

std::uint8_t Reader::u8(const char* field) {
  const auto* p = advance(1, field);
  return p ? *p : 0;
}
std::uint16_t Reader::be16(const char* field) {
  const auto* p = advance(2, field);
  return p ? load_be16(p) : 0;
}
std::uint32_t Reader::be32(const char* field) {
  const auto* p = advance(4, field);
  return p ? load_be32(p) : 0;
}
std::uint64_t Reader::be64(const char* field) {
  const auto* p = advance(8, field);
  return p ? load_be64(p) : 0;
}
Bytes Reader::take(std::size_t n, const char* field) {
  const auto* p = advance(n, field);
  return p ? Bytes(p, n) : Bytes();
}
Bytes Reader::rest() {
  if (error_) return {};
  Bytes r = data_.subspan(pos_);
  pos_ = data_.size();
  return r;
}

void Reader::fail(DecodeError e) {
  if (!error_) error_ = std::move(e);
}

std::optional<DecodeError> Reader::finish(const char* message) const {
  if (error_) return error_;
  if (remaining() != 0) {
    return DecodeError{message, remaining(), "trailing bytes after the last field", nullptr};
  }
  return std::nullopt;
}

std::optional<DecodeError> expect_size(Bytes b, std::size_t size, const char* message) {
  if (b.size() == size) return std::nullopt;
  return DecodeError{std::string(message) + " size", b.size(),
                     "expected exactly " + std::to_string(size) + " bytes", nullptr};
}

}  // namespace nbdref::wire
