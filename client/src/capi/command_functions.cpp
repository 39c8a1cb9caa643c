// The synchronous commands, and the adapters that hand a command's chunks
// and extents to libnbd-style C callbacks.
#include <vector>

#include "capi/call.hpp"
#include "capi/export.hpp"
#include "compat/libnbd.h"

using namespace nbdref;
using capi::entry;
using capi::missing;
using capi::to_int;

namespace {

// libnbd's callback rule: a callback returning -1 fails the command with the
// errno it stored in *error, or EPROTO if it stored none.
int callback_error(int returned, int error) {
  if (returned != -1) return 0;
  return error != 0 ? error : EPROTO;
}

class ChunkCallbackObserver final : public engine::CommandListener {
 public:
  ChunkCallbackObserver(nbd_chunk_callback cb, std::uint8_t* buffer, std::uint64_t offset)
      : cb_(cb), buffer_(buffer), offset_(offset) {}

  void on_read_chunk(std::span<const std::uint8_t> data, std::uint64_t offset,
                     engine::ReadChunk kind, int& error) override {
    int e = error;
    // For an error there is no data; subbuf still points at the failed offset.
    const void* subbuf = kind == engine::ReadChunk::Error ? buffer_ + (offset - offset_)
                                                          : static_cast<const void*>(data.data());
    const int r =
        cb_.callback(cb_.user_data, subbuf, data.size(), offset, static_cast<unsigned>(kind), &e);
    if (const int err = callback_error(r, e)) error = err;
  }
  void on_complete(const engine::CommandOutcome&) override {}

 private:
  nbd_chunk_callback cb_;
  std::uint8_t* buffer_;
  std::uint64_t offset_;
};

class ExtentCallbackObserver final : public engine::CommandListener {
 public:
  explicit ExtentCallbackObserver(nbd_extent_callback cb) : cb_(cb) {}

  void on_extents(const engine::MetaContext& context, std::uint64_t offset,
                  std::span<const wire::BlockDescriptor> extents, int& error) override {
    // The C callback takes (length, flags) pairs of 32 bits. An extent too
    // long for that (only possible with extended headers) is cut to the
    // largest 512-aligned 32-bit length and ends the list, so every entry
    // still starts where the previous one ended.
    constexpr std::uint64_t MAX_ENTRY = 0xfffffe00;
    entries_.clear();
    for (const auto& d : extents) {
      const bool cut = d.length > MAX_ENTRY;
      entries_.push_back(static_cast<std::uint32_t>(cut ? MAX_ENTRY : d.length));
      entries_.push_back(static_cast<std::uint32_t>(d.status));
      if (cut) break;
    }
    int e = error;
    const int r = cb_.callback(cb_.user_data, context.name.c_str(), offset, entries_.data(),
                               entries_.size(), &e);
    if (const int err = callback_error(r, e)) error = err;
  }
  void on_complete(const engine::CommandOutcome&) override {}

 private:
  nbd_extent_callback cb_;
  std::vector<std::uint32_t> entries_;
};

}  // namespace

NBDREF_EXPORT int nbd_pread(nbd_handle* h, void* buf, size_t count, uint64_t offset,
                            uint32_t flags) {
  return entry("nbd_pread", -1, [&](const char* fn) {
    if (missing(fn, buf, "buf")) return -1;
    auto r = engine::make_request(wire::NBD_CMD_READ, offset, count, flags);
    r.read_buffer = static_cast<std::uint8_t*>(buf);
    return to_int(fn, h->impl.run(r, nullptr));
  });
}

NBDREF_EXPORT int nbd_pread_structured(nbd_handle* h, void* buf, size_t count, uint64_t offset,
                                       nbd_chunk_callback chunk_callback, uint32_t flags) {
  return entry("nbd_pread_structured", -1, [&](const char* fn) {
    capi::FreeOnExit<nbd_chunk_callback> release(chunk_callback);
    if (missing(fn, buf, "buf") ||
        missing(fn, reinterpret_cast<const void*>(chunk_callback.callback), "chunk.callback")) {
      return -1;
    }
    auto r = engine::make_request(wire::NBD_CMD_READ, offset, count, flags);
    r.read_buffer = static_cast<std::uint8_t*>(buf);
    ChunkCallbackObserver observer(chunk_callback, r.read_buffer, offset);
    return to_int(fn, h->impl.run(r, &observer));
  });
}

NBDREF_EXPORT int nbd_pwrite(nbd_handle* h, const void* buf, size_t count, uint64_t offset,
                             uint32_t flags) {
  return entry("nbd_pwrite", -1, [&](const char* fn) {
    if (missing(fn, buf, "buf")) return -1;
    auto r = engine::make_request(wire::NBD_CMD_WRITE, offset, count, flags);
    r.write_data = static_cast<const std::uint8_t*>(buf);
    return to_int(fn, h->impl.run(r, nullptr));
  });
}

NBDREF_EXPORT int nbd_flush(nbd_handle* h, uint32_t flags) {
  return entry("nbd_flush", -1, [&](const char* fn) {
    return to_int(fn, h->impl.run(engine::make_request(wire::NBD_CMD_FLUSH, 0, 0, flags), nullptr));
  });
}

NBDREF_EXPORT int nbd_trim(nbd_handle* h, uint64_t count, uint64_t offset, uint32_t flags) {
  return entry("nbd_trim", -1, [&](const char* fn) {
    return to_int(
        fn, h->impl.run(engine::make_request(wire::NBD_CMD_TRIM, offset, count, flags), nullptr));
  });
}

NBDREF_EXPORT int nbd_cache(nbd_handle* h, uint64_t count, uint64_t offset, uint32_t flags) {
  return entry("nbd_cache", -1, [&](const char* fn) {
    return to_int(
        fn, h->impl.run(engine::make_request(wire::NBD_CMD_CACHE, offset, count, flags), nullptr));
  });
}

NBDREF_EXPORT int nbd_zero(nbd_handle* h, uint64_t count, uint64_t offset, uint32_t flags) {
  return entry("nbd_zero", -1, [&](const char* fn) {
    return to_int(
        fn, h->impl.run(engine::make_request(wire::NBD_CMD_WRITE_ZEROES, offset, count, flags),
                        nullptr));
  });
}

NBDREF_EXPORT int nbd_block_status(nbd_handle* h, uint64_t count, uint64_t offset,
                                   nbd_extent_callback extent_callback, uint32_t flags) {
  return entry("nbd_block_status", -1, [&](const char* fn) {
    capi::FreeOnExit<nbd_extent_callback> release(extent_callback);
    if (missing(fn, reinterpret_cast<const void*>(extent_callback.callback), "extent.callback")) {
      return -1;
    }
    ExtentCallbackObserver observer(extent_callback);
    return to_int(
        fn, h->impl.run(engine::make_request(wire::NBD_CMD_BLOCK_STATUS, offset, count, flags),
                        &observer));
  });
}

NBDREF_EXPORT int nbd_shutdown(nbd_handle* h, uint32_t flags) {
  return entry("nbd_shutdown", -1, [&](const char* fn) {
    if (flags & ~LIBNBD_SHUTDOWN_MASK) {
      capi::set_error(fn, EINVAL, "unknown shutdown flags " + std::to_string(flags));
      return -1;
    }
    return to_int(fn, h->impl.shutdown((flags & LIBNBD_SHUTDOWN_ABANDON_PENDING) != 0));
  });
}

NBDREF_EXPORT int nbd_poll(nbd_handle* h, int timeout) {
  return entry("nbd_poll", -1, [&](const char* fn) {
    auto r = h->impl.poll(timeout);
    if (!r) {
      capi::set_error(fn, r.error());
      return -1;
    }
    return *r;
  });
}
