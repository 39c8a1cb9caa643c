// Bytes waiting to be sent, as a list of segments: small pieces (headers)
// are copied into the queue's own storage, large payloads are referenced in
// place so a write never copies the caller's data. Many requests leave in
// one gather write.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <span>
#include <vector>

#include "wire/bytes.hpp"

namespace nbdref::engine {

class OutputQueue {
 public:
  // Room for n bytes in the queue's own storage, appended after everything
  // queued so far. Valid until the next call on the queue.
  std::uint8_t* append(std::size_t n);
  void append_copy(wire::Bytes b);
  // Queue `b` without copying; the bytes must stay valid until sent.
  void append_reference(wire::Bytes b);

  // Up to out.size() segments of the unsent bytes, in order; returns how many.
  std::size_t gather(std::span<iovec> out) const;
  void consume(std::size_t n);

  bool empty() const { return head_ == segments_.size(); }
  std::size_t pending_bytes() const { return enqueued_ - sent_; }
  // Running totals since the queue was created.
  std::uint64_t enqueued() const { return enqueued_; }
  std::uint64_t sent() const { return sent_; }
  // Memory held for queued data, sent or not (sent data is released lazily).
  std::size_t retained_bytes() const {
    return storage_.size() + segments_.size() * sizeof(Segment);
  }

  // Drops everything queued at or after absolute position `pos`
  // (pos >= sent()); used to abandon requests not yet started.
  void truncate(std::uint64_t pos);
  void clear();

 private:
  struct Segment {
    const std::uint8_t* external;  // nullptr: the bytes live in storage_ at `offset`
    std::size_t offset;
    std::size_t size;
  };
  const std::uint8_t* data_of(const Segment& s) const {
    return s.external ? s.external : storage_.data() + s.offset;
  }
  // Frees what has been sent: everything once the queue is empty, else the
  // sent prefix once it dominates (see MIN_RELEASE_*).
  void release_sent();
  // The sent prefix is released only past these sizes, so the memmove that
  // releasing costs stays rare.
  static constexpr std::size_t MIN_RELEASE_BYTES = 64 * 1024;
  static constexpr std::size_t MIN_RELEASE_SEGMENTS = 1024;

  std::vector<std::uint8_t> storage_;
  std::vector<Segment> segments_;
  std::size_t head_ = 0;         // first unsent segment
  std::size_t head_offset_ = 0;  // bytes of it already sent
  std::uint64_t enqueued_ = 0;
  std::uint64_t sent_ = 0;
};

}  // namespace nbdref::engine
