#include "engine/input_buffer.hpp"

#include <algorithm>
#include <cstring>

namespace nbdref::engine {

void InputBuffer::consume(std::size_t n) {
  begin_ += n;
  if (begin_ == end_) begin_ = end_ = 0;
}

std::span<std::uint8_t> InputBuffer::space(std::size_t message_size) {
  if (capacity_ < message_size) {
    auto bigger = std::make_unique_for_overwrite<std::uint8_t[]>(message_size);
    std::memcpy(bigger.get(), buf_.get() + begin_, size());
    end_ -= begin_;
    begin_ = 0;
    buf_ = std::move(bigger);
    capacity_ = message_size;
  }
  // Slide unread bytes to the front when the tail is too small for the rest
  // of the message, or nearly exhausted.
  const std::size_t tail = capacity_ - end_;
  if (begin_ > 0 && (tail < message_size - std::min(message_size, size()) || tail < 4096)) {
    std::memmove(buf_.get(), buf_.get() + begin_, size());
    end_ -= begin_;
    begin_ = 0;
  }
  return {buf_.get() + end_, capacity_ - end_};
}

}  // namespace nbdref::engine
