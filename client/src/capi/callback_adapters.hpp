// Adapters from the engine's listeners to libnbd-style C callbacks, with
// libnbd's rules: a callback returning -1 with *error set changes the
// command's error; .free runs exactly once, when the adapter is destroyed
// (or, for an asynchronous command's callbacks, released).
#pragma once

#include <optional>
#include <vector>

#include "capi/call.hpp"
#include "compat/libnbd.h"
#include "handle/async_command.hpp"

namespace nbdref::capi {

// NBD_NULL_COMPLETION, spelled for C++.
inline constexpr nbd_completion_callback NO_COMPLETION{nullptr, nullptr, nullptr};

// The errno a failing callback means: its *error, or EPROTO if it set none.
inline int callback_error(int returned, int error) {
  if (returned != -1) return 0;
  return error != 0 ? error : EPROTO;
}

// Chunks of a read, for nbd_pread_structured / nbd_aio_pread_structured.
class ChunkCallback {
 public:
  ChunkCallback(nbd_chunk_callback cb, std::uint8_t* buffer, std::uint64_t offset)
      : cb_(cb), release_(cb), buffer_(buffer), offset_(offset) {}
  void on_read_chunk(std::span<const std::uint8_t> data, std::uint64_t offset,
                     engine::ReadChunk kind, int& error);

 private:
  nbd_chunk_callback cb_;
  FreeOnExit<nbd_chunk_callback> release_;
  std::uint8_t* buffer_;
  std::uint64_t offset_;
};

// Extents as 32-bit (length, flags) pairs (nbd_block_status).
class ExtentCallback {
 public:
  explicit ExtentCallback(nbd_extent_callback cb) : cb_(cb), release_(cb) {}
  void on_extents(const engine::MetaContext& context, std::uint64_t offset,
                  std::span<const wire::BlockDescriptor> extents, int& error);

 private:
  nbd_extent_callback cb_;
  FreeOnExit<nbd_extent_callback> release_;
  std::vector<std::uint32_t> entries_;
};

// Extents with 64-bit lengths and flags (nbd_block_status_64).
class Extent64Callback {
 public:
  explicit Extent64Callback(nbd_extent64_callback cb) : cb_(cb), release_(cb) {}
  void on_extents(const engine::MetaContext& context, std::uint64_t offset,
                  std::span<const wire::BlockDescriptor> extents, int& error);

 private:
  nbd_extent64_callback cb_;
  FreeOnExit<nbd_extent64_callback> release_;
  std::vector<nbd_extent> entries_;
};

// The callbacks of one synchronous or asynchronous command. For a
// synchronous call it only observes; as an AsyncCommand it also runs the
// completion callback and decides retirement.
class CommandCallbacksPool;

class CommandCallbacks final : public handle::AsyncCommand {
 public:
  explicit CommandCallbacks(nbd_completion_callback completion = NO_COMPLETION,
                            CommandCallbacksPool* pool = nullptr)
      : completion_(completion), pool_(pool) {}
  ~CommandCallbacks() override { drop_callbacks(); }
  CommandCallbacks(const CommandCallbacks&) = delete;
  CommandCallbacks& operator=(const CommandCallbacks&) = delete;

  std::optional<ChunkCallback> chunk;
  std::optional<ExtentCallback> extents;
  std::optional<Extent64Callback> extents64;

  void on_read_chunk(std::span<const std::uint8_t> data, std::uint64_t offset,
                     engine::ReadChunk kind, int& error) override {
    if (chunk) chunk->on_read_chunk(data, offset, kind, error);
  }
  void on_extents(const engine::MetaContext& context, std::uint64_t offset,
                  std::span<const wire::BlockDescriptor> e, int& error) override {
    if (extents) extents->on_extents(context, offset, e, error);
    if (extents64) extents64->on_extents(context, offset, e, error);
  }
  bool on_finished(int& errnum) override;
  // Runs every .free, then goes back to the pool it came from (if any).
  void release() override;

 private:
  friend class CommandCallbacksPool;
  // Runs the .free of each callback held (once: they are dropped).
  void drop_callbacks();

  nbd_completion_callback completion_;
  CommandCallbacksPool* pool_;
};

// Runs a completion callback for an option or command: true if it asked
// for retirement (returned 1); a -1 with *error set replaces `errnum`.
bool run_completion(const nbd_completion_callback& cb, int& errnum);

}  // namespace nbdref::capi
