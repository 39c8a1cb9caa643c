// One command the transmission target submits, with the buffers a caller
// would own and the listener that checks everything the engine reports
// for it (the invariants are listed in transmission.cpp).
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include <sanitizer/asan_interface.h>

#include "byte_pattern.hpp"
#include "engine/command.hpp"
#include "invariant.hpp"
#include "wire/constants.hpp"

namespace nbdref::fuzz {

// What a WRITE carries, so what the client sent can be checked after its
// buffer is gone.
inline std::uint8_t write_byte(std::size_t i) {
  return static_cast<std::uint8_t>(i ^ (i >> 8) ^ 0x5a);
}

class TrackedCommand : public engine::CommandListener {
 public:
  // `contexts`, the negotiated meta contexts, must outlive the command.
  TrackedCommand(const engine::CommandRequest& request,
                 const std::vector<engine::MetaContext>& contexts, bool fail_callbacks)
      : request_(request), contexts_(contexts), fail_callbacks_(fail_callbacks) {
    request_.listener = this;
    const auto length = static_cast<std::size_t>(request_.length);
    FUZZ_REQUIRE(length <= PATTERN_SIZE);
    if (request_.type == wire::NBD_CMD_READ) {
      buffer_ = std::make_unique<std::uint8_t[]>(length);
      buffer_size_ = length;
      request_.read_buffer = buffer_.get();
      covered_.assign(length, 0);
    } else if (request_.type == wire::NBD_CMD_WRITE) {
      buffer_ = std::make_unique<std::uint8_t[]>(length);
      buffer_size_ = length;
      std::memcpy(buffer_.get(), pattern<write_byte>(), length);
      request_.write_data = buffer_.get();
    }
  }
  TrackedCommand(const TrackedCommand&) = delete;
  TrackedCommand& operator=(const TrackedCommand&) = delete;
  ~TrackedCommand() override { ASAN_UNPOISON_MEMORY_REGION(buffer_.get(), buffer_size_); }

  // What to submit: the request with its buffers and this listener.
  const engine::CommandRequest& request() const { return request_; }
  void submitted(std::uint64_t cookie) { cookie_ = cookie; }
  bool was_submitted() const { return cookie_ != 0; }
  std::uint64_t cookie() const { return cookie_; }
  int completions() const { return completions_; }
  const engine::CommandOutcome& outcome() const { return outcome_; }

  // The engine wrote nothing into the command's buffer after it completed.
  bool buffer_untouched_since_completion() const {
    if (!buffer_) return true;
    ASAN_UNPOISON_MEMORY_REGION(buffer_.get(), buffer_size_);
    return std::memcmp(buffer_.get(), pattern<canary_byte>(), buffer_size_) == 0;
  }

  void on_read_chunk(std::span<const std::uint8_t> data, std::uint64_t offset,
                     engine::ReadChunk kind, int& error) override {
    const auto& r = request_;
    FUZZ_REQUIRE(was_submitted() && completions_ == 0 && r.type == wire::NBD_CMD_READ);
    // Every chunk lies inside the request (S-SR-021).
    FUZZ_REQUIRE(offset >= r.offset && offset - r.offset <= r.length &&
                 data.size() <= r.length - (offset - r.offset));
    const auto at = static_cast<std::size_t>(offset - r.offset);
    if (kind == engine::ReadChunk::Error) {
      FUZZ_REQUIRE(data.empty() && at < r.length);  // S-SR-032
    } else {
      // The bytes are in the caller's buffer, where they belong.
      FUZZ_REQUIRE(data.data() == buffer_.get() + at);
      if (!data.empty()) std::memset(covered_.data() + at, 1, data.size());
      if (kind == engine::ReadChunk::Hole && !data.empty()) {
        FUZZ_REQUIRE(std::memcmp(data.data(), pattern<zero_byte>(), data.size()) == 0);
      }
    }
    fail_if_asked(error);
  }

  void on_extents(const engine::MetaContext& context, std::uint64_t offset,
                  std::span<const wire::BlockDescriptor> extents, int& error) override {
    const auto& r = request_;
    FUZZ_REQUIRE(was_submitted() && completions_ == 0 && r.type == wire::NBD_CMD_BLOCK_STATUS);
    FUZZ_REQUIRE(offset == r.offset);
    // A negotiated context (S-BS-001), once per reply.
    FUZZ_REQUIRE(std::any_of(contexts_.begin(), contexts_.end(), [&](const auto& c) {
      return c.id == context.id && c.name == context.name;
    }));
    FUZZ_REQUIRE(std::find(seen_.begin(), seen_.end(), context.id) == seen_.end());
    seen_.push_back(context.id);
    // S-BS-041, S-BS-042: at least one extent, none empty.
    FUZZ_REQUIRE(!extents.empty());
    // S-BS-044: only the last extent may reach past the request.
    std::uint64_t before_last = 0;
    for (std::size_t i = 0; i < extents.size(); ++i) {
      FUZZ_REQUIRE(extents[i].length != 0);
      if (i + 1 == extents.size()) break;
      FUZZ_REQUIRE(before_last < r.length && extents[i].length < r.length - before_last);
      before_last += extents[i].length;
    }
    // S-BS-043: REQ_ONE gets one extent, no longer than the request.
    FUZZ_REQUIRE(!(r.flags & wire::NBD_CMD_FLAG_REQ_ONE) ||
                 (extents.size() == 1 && extents[0].length <= r.length));
    fail_if_asked(error);
  }

  void on_complete(const engine::CommandOutcome& outcome) override {
    FUZZ_REQUIRE(was_submitted() && ++completions_ == 1 && outcome.cookie == cookie_);
    if (outcome.errnum == 0) {
      FUZZ_REQUIRE(!callback_failed_);
      // S-SR-045: a read succeeds only when every byte arrived.
      FUZZ_REQUIRE(covered_.empty() || !std::memchr(covered_.data(), 0, covered_.size()));
      // S-BS-001: block status answers for every negotiated context.
      FUZZ_REQUIRE(request_.type != wire::NBD_CMD_BLOCK_STATUS || seen_.size() == contexts_.size());
    } else {
      FUZZ_REQUIRE(!outcome.message.empty());
    }
    outcome_ = outcome;
    // The caller may reuse or free its buffer now: it is overwritten with a
    // canary that must survive and must not be sent, and poisoned so
    // AddressSanitizer reports any later use by the engine at once.
    if (!buffer_) return;
    std::memcpy(buffer_.get(), pattern<canary_byte>(), buffer_size_);
    ASAN_POISON_MEMORY_REGION(buffer_.get(), buffer_size_);
  }

 private:
  void fail_if_asked(int& error) {
    if (!fail_callbacks_) return;
    error = EIO;
    callback_failed_ = true;
  }

  engine::CommandRequest request_;
  const std::vector<engine::MetaContext>& contexts_;
  bool fail_callbacks_;
  std::unique_ptr<std::uint8_t[]> buffer_;  // READ destination or WRITE source
  std::size_t buffer_size_ = 0;
  std::vector<std::uint8_t> covered_;  // READ: 1 where a data or hole chunk placed bytes
  std::vector<std::uint32_t> seen_;    // BLOCK_STATUS: contexts answered
  bool callback_failed_ = false;
  std::uint64_t cookie_ = 0;
  int completions_ = 0;
  engine::CommandOutcome outcome_;
};

}  // namespace nbdref::fuzz
