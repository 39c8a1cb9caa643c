#include "capi/callback_adapters.hpp"

#include <utility>

#include "capi/command_callbacks_pool.hpp"

namespace nbdref::capi {

void ChunkCallback::on_read_chunk(std::span<const std::uint8_t> data, std::uint64_t offset,
                                  engine::ReadChunk kind, int& error) {
  if (!cb_.callback) return;
  int e = error;
  // For an error there is no data; subbuf still points at the failed offset.
  const void* subbuf = kind == engine::ReadChunk::Error ? buffer_ + (offset - offset_)
                                                        : static_cast<const void*>(data.data());
  const int r =
      cb_.callback(cb_.user_data, subbuf, data.size(), offset, static_cast<unsigned>(kind), &e);
  if (const int err = callback_error(r, e)) error = err;
}

void ExtentCallback::on_extents(const engine::MetaContext& context, std::uint64_t offset,
                                std::span<const wire::BlockDescriptor> extents, int& error) {
  if (!cb_.callback) return;
  // The C callback takes (length, flags) pairs of 32 bits. An extent too
  // long for that (only possible with extended headers) is cut to the
  // largest 512-aligned 32-bit length and ends the list, so every entry
  // still starts where the previous one ended; a status too wide is
  // reported as EOVERFLOW, as libnbd does.
  constexpr std::uint64_t MAX_ENTRY = 0xfffffe00;
  int e = error;
  entries_.clear();
  for (const auto& d : extents) {
    const bool cut = d.length > MAX_ENTRY;
    if (d.status > 0xffffffffu && e == 0) e = EOVERFLOW;
    entries_.push_back(static_cast<std::uint32_t>(cut ? MAX_ENTRY : d.length));
    entries_.push_back(static_cast<std::uint32_t>(d.status));
    if (cut) break;
  }
  const int r = cb_.callback(cb_.user_data, context.name.c_str(), offset, entries_.data(),
                             entries_.size(), &e);
  if (const int err = callback_error(r, e)) error = err;
}

void Extent64Callback::on_extents(const engine::MetaContext& context, std::uint64_t offset,
                                  std::span<const wire::BlockDescriptor> extents, int& error) {
  if (!cb_.callback) return;
  entries_.clear();
  for (const auto& d : extents) entries_.push_back(nbd_extent{d.length, d.status});
  int e = error;
  const int r = cb_.callback(cb_.user_data, context.name.c_str(), offset, entries_.data(),
                             entries_.size(), &e);
  if (const int err = callback_error(r, e)) error = err;
}

bool run_completion(const nbd_completion_callback& cb, int& errnum) {
  if (!cb.callback) return false;
  int e = errnum;
  const int r = cb.callback(cb.user_data, &e);
  // Only a failing callback may change the error, and only to an error.
  if (r == -1 && e != 0) errnum = e;
  return r == 1;
}

bool CommandCallbacks::on_finished(int& errnum) {
  return run_completion(completion_, errnum);
}

void CommandCallbacks::drop_callbacks() {
  const nbd_completion_callback completion = std::exchange(completion_, NO_COMPLETION);
  if (completion.free) completion.free(completion.user_data);
  chunk.reset();
  extents.reset();
  extents64.reset();
}

void CommandCallbacks::release() {
  if (pool_) {
    pool_->give_back(this);
  } else {
    delete this;
  }
}

}  // namespace nbdref::capi
