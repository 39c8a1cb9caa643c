// Bytes received but not yet parsed. The transport writes into space() and
// commits; the parser peeks whole messages and consumes them.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "wire/bytes.hpp"

namespace nbdref::engine {

class InputBuffer {
 public:
  // The storage is left uninitialised: it only ever holds received bytes,
  // and a connection that reads little never pays for clearing 64 KiB.
  explicit InputBuffer(std::size_t capacity = 64 * 1024)
      : buf_(std::make_unique_for_overwrite<std::uint8_t[]>(capacity)), capacity_(capacity) {}

  std::size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }
  // The first n unread bytes (n <= size()).
  wire::Bytes peek(std::size_t n) const { return {buf_.get() + begin_, n}; }
  void consume(std::size_t n);

  // Room to receive into, enough for a message of `message_size` bytes to
  // become contiguous. The caller bounds `message_size` by the protocol.
  std::span<std::uint8_t> space(std::size_t message_size);
  void commit(std::size_t n) { end_ += n; }

 private:
  std::unique_ptr<std::uint8_t[]> buf_;
  std::size_t capacity_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace nbdref::engine
