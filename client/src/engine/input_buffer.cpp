#include "engine/input_buffer.hpp"

#include <cstring>

namespace nbdref::engine {

void InputBuffer::consume(std::size_t n) {
  begin_ += n;
  if (begin_ == end_) begin_ = end_ = 0;
}

std::span<std::uint8_t> InputBuffer::space(std::size_t message_size) {
  if (buf_.size() < message_size) buf_.resize(message_size);
  // Slide unread bytes to the front when the tail is too small for the rest
  // of the message, or nearly exhausted.
  const std::size_t tail = buf_.size() - end_;
  if (begin_ > 0 && (tail < message_size - std::min(message_size, size()) || tail < 4096)) {
    std::memmove(buf_.data(), buf_.data() + begin_, size());
    end_ -= begin_;
    begin_ = 0;
  }
  return {buf_.data() + end_, buf_.size() - end_};
}

}  // namespace nbdref::engine
