#include "engine/output_queue.hpp"

#include <algorithm>
#include <cstring>

namespace nbdref::engine {

std::uint8_t* OutputQueue::append(std::size_t n) {
  const std::size_t offset = storage_.size();
  storage_.resize(offset + n);
  // Consecutive copies share one segment so a gather write stays short.
  if (!empty() && segments_.back().external == nullptr &&
      segments_.back().offset + segments_.back().size == offset) {
    segments_.back().size += n;
  } else {
    segments_.push_back({nullptr, offset, n});
  }
  enqueued_ += n;
  return storage_.data() + offset;
}

void OutputQueue::append_copy(wire::Bytes b) {
  if (!b.empty()) std::memcpy(append(b.size()), b.data(), b.size());
}

void OutputQueue::append_reference(wire::Bytes b) {
  if (b.empty()) return;
  segments_.push_back({b.data(), 0, b.size()});
  enqueued_ += b.size();
}

std::size_t OutputQueue::gather(std::span<iovec> out) const {
  std::size_t n = 0;
  for (std::size_t i = head_; i < segments_.size() && n < out.size(); ++i, ++n) {
    const auto& s = segments_[i];
    const std::size_t skip = i == head_ ? head_offset_ : 0;
    out[n].iov_base = const_cast<std::uint8_t*>(data_of(s) + skip);
    out[n].iov_len = s.size - skip;
  }
  return n;
}

void OutputQueue::consume(std::size_t n) {
  sent_ += n;
  while (n > 0) {
    const auto& s = segments_[head_];
    const std::size_t left = s.size - head_offset_;
    if (n < left) {
      head_offset_ += n;
      break;
    }
    n -= left;
    ++head_;
    head_offset_ = 0;
  }
  release_sent();
}

void OutputQueue::release_sent() {
  if (empty()) {
    segments_.clear();
    storage_.clear();
    head_ = head_offset_ = 0;
    return;
  }
  // Under sustained load the queue may never drain: each write takes part
  // of a segment, and adjacent copies keep extending one segment. Once the
  // bytes already sent dominate, they are dropped, so what the queue holds
  // stays proportional to what is unsent.
  std::size_t first_unsent = storage_.size();  // in storage_, where unsent copies begin
  for (std::size_t i = head_; i < segments_.size(); ++i) {
    if (!segments_[i].external) {
      first_unsent = segments_[i].offset + (i == head_ ? head_offset_ : 0);
      break;
    }
  }
  const bool storage_mostly_sent =
      first_unsent >= MIN_RELEASE_BYTES && first_unsent * 2 >= storage_.size();
  const bool segments_mostly_sent = head_ >= MIN_RELEASE_SEGMENTS && head_ * 2 >= segments_.size();
  if (!storage_mostly_sent && !segments_mostly_sent) return;

  segments_.erase(segments_.begin(), segments_.begin() + static_cast<std::ptrdiff_t>(head_));
  head_ = 0;
  if (!storage_mostly_sent) return;
  storage_.erase(storage_.begin(), storage_.begin() + static_cast<std::ptrdiff_t>(first_unsent));
  Segment& head = segments_.front();
  if (!head.external) {
    // Its sent part went with the storage.
    head.offset += head_offset_;
    head.size -= head_offset_;
    head_offset_ = 0;
  }
  for (auto& seg : segments_) {
    if (!seg.external) seg.offset -= first_unsent;
  }
}

void OutputQueue::truncate(std::uint64_t pos) {
  std::uint64_t at = enqueued_;
  while (segments_.size() > head_ && at > pos) {
    auto& s = segments_.back();
    const std::uint64_t start = at - s.size;
    if (start >= pos) {
      if (!s.external) storage_.resize(s.offset);
      at = start;
      segments_.pop_back();
    } else {
      const std::size_t keep = static_cast<std::size_t>(pos - start);
      if (!s.external) storage_.resize(s.offset + keep);
      s.size = keep;
      at = pos;
    }
  }
  enqueued_ = at;
  release_sent();
}

void OutputQueue::clear() {
  sent_ = enqueued_;
  segments_.clear();
  storage_.clear();
  head_ = head_offset_ = 0;
}

}  // namespace nbdref::engine
