// Commands, synchronous and asynchronous: each builds a request and its
// callbacks, then either waits for it (nbd_pread) or hands it to the handle
// and returns the cookie (nbd_aio_pread).
#include <memory>

#include "capi/call.hpp"
#include "capi/callback_adapters.hpp"
#include "capi/command_callbacks_pool.hpp"
#include "capi/export.hpp"
#include "compat/libnbd.h"

using namespace nbdref;
using capi::CommandCallbacks;
using capi::entry;
using capi::missing;
using capi::to_int;

namespace {

// Waits for the command: 0 / -1.
int run(nbd_handle* h, const char* fn, const engine::CommandRequest& r,
        CommandCallbacks* callbacks = nullptr) {
  return to_int(fn, h->impl.run(r, callbacks));
}

// Issues the command: its cookie / -1. The callbacks are the handle's from
// here on (and released at once if the submission fails).
int64_t submit(nbd_handle* h, const char* fn, engine::CommandRequest r,
               capi::CommandCallbacksPool::Ptr callbacks) {
  auto cookie = h->impl.submit(r, std::move(callbacks));
  if (!cookie) {
    capi::set_error(fn, cookie.error());
    return -1;
  }
  return static_cast<int64_t>(*cookie);
}

engine::CommandRequest read_request(void* buf, size_t count, uint64_t offset, uint32_t flags) {
  auto r = engine::make_request(wire::NBD_CMD_READ, offset, count, flags);
  r.read_buffer = static_cast<std::uint8_t*>(buf);
  return r;
}

engine::CommandRequest write_request(const void* buf, size_t count, uint64_t offset,
                                     uint32_t flags) {
  auto r = engine::make_request(wire::NBD_CMD_WRITE, offset, count, flags);
  r.write_data = static_cast<const std::uint8_t*>(buf);
  return r;
}

}  // namespace

// ---- synchronous ----

NBDREF_EXPORT int nbd_pread(nbd_handle* h, void* buf, size_t count, uint64_t offset,
                            uint32_t flags) {
  return entry("nbd_pread", -1, [&](const char* fn) {
    if (missing(fn, buf, "buf")) return -1;
    return run(h, fn, read_request(buf, count, offset, flags));
  });
}

NBDREF_EXPORT int nbd_pread_structured(nbd_handle* h, void* buf, size_t count, uint64_t offset,
                                       nbd_chunk_callback chunk_callback, uint32_t flags) {
  return entry("nbd_pread_structured", -1, [&](const char* fn) {
    CommandCallbacks callbacks;
    callbacks.chunk.emplace(chunk_callback, static_cast<std::uint8_t*>(buf), offset);
    if (missing(fn, buf, "buf") ||
        missing(fn, reinterpret_cast<const void*>(chunk_callback.callback), "chunk.callback")) {
      return -1;
    }
    return run(h, fn, read_request(buf, count, offset, flags), &callbacks);
  });
}

NBDREF_EXPORT int nbd_pwrite(nbd_handle* h, const void* buf, size_t count, uint64_t offset,
                             uint32_t flags) {
  return entry("nbd_pwrite", -1, [&](const char* fn) {
    if (missing(fn, buf, "buf")) return -1;
    return run(h, fn, write_request(buf, count, offset, flags));
  });
}

NBDREF_EXPORT int nbd_flush(nbd_handle* h, uint32_t flags) {
  return entry("nbd_flush", -1, [&](const char* fn) {
    return run(h, fn, engine::make_request(wire::NBD_CMD_FLUSH, 0, 0, flags));
  });
}

NBDREF_EXPORT int nbd_trim(nbd_handle* h, uint64_t count, uint64_t offset, uint32_t flags) {
  return entry("nbd_trim", -1, [&](const char* fn) {
    return run(h, fn, engine::make_request(wire::NBD_CMD_TRIM, offset, count, flags));
  });
}

NBDREF_EXPORT int nbd_cache(nbd_handle* h, uint64_t count, uint64_t offset, uint32_t flags) {
  return entry("nbd_cache", -1, [&](const char* fn) {
    return run(h, fn, engine::make_request(wire::NBD_CMD_CACHE, offset, count, flags));
  });
}

NBDREF_EXPORT int nbd_zero(nbd_handle* h, uint64_t count, uint64_t offset, uint32_t flags) {
  return entry("nbd_zero", -1, [&](const char* fn) {
    return run(h, fn, engine::make_request(wire::NBD_CMD_WRITE_ZEROES, offset, count, flags));
  });
}

NBDREF_EXPORT int nbd_block_status(nbd_handle* h, uint64_t count, uint64_t offset,
                                   nbd_extent_callback extent_callback, uint32_t flags) {
  return entry("nbd_block_status", -1, [&](const char* fn) {
    CommandCallbacks callbacks;
    callbacks.extents.emplace(extent_callback);
    if (missing(fn, reinterpret_cast<const void*>(extent_callback.callback), "extent.callback")) {
      return -1;
    }
    return run(h, fn, engine::make_request(wire::NBD_CMD_BLOCK_STATUS, offset, count, flags),
               &callbacks);
  });
}

NBDREF_EXPORT int nbd_block_status_64(nbd_handle* h, uint64_t count, uint64_t offset,
                                      nbd_extent64_callback extent64_callback, uint32_t flags) {
  return entry("nbd_block_status_64", -1, [&](const char* fn) {
    CommandCallbacks callbacks;
    callbacks.extents64.emplace(extent64_callback);
    if (missing(fn, reinterpret_cast<const void*>(extent64_callback.callback),
                "extent64.callback")) {
      return -1;
    }
    return run(h, fn, engine::make_request(wire::NBD_CMD_BLOCK_STATUS, offset, count, flags),
               &callbacks);
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

// ---- asynchronous ----

NBDREF_EXPORT int64_t nbd_aio_pread(nbd_handle* h, void* buf, size_t count, uint64_t offset,
                                    nbd_completion_callback completion_callback, uint32_t flags) {
  return entry("nbd_aio_pread", int64_t{-1}, [&](const char* fn) -> int64_t {
    auto callbacks = h->callbacks.acquire(completion_callback);
    if (missing(fn, buf, "buf")) return -1;
    return submit(h, fn, read_request(buf, count, offset, flags), std::move(callbacks));
  });
}

NBDREF_EXPORT int64_t nbd_aio_pread_structured(nbd_handle* h, void* buf, size_t count,
                                               uint64_t offset, nbd_chunk_callback chunk_callback,
                                               nbd_completion_callback completion_callback,
                                               uint32_t flags) {
  return entry("nbd_aio_pread_structured", int64_t{-1}, [&](const char* fn) -> int64_t {
    auto callbacks = h->callbacks.acquire(completion_callback);
    callbacks->chunk.emplace(chunk_callback, static_cast<std::uint8_t*>(buf), offset);
    if (missing(fn, buf, "buf") ||
        missing(fn, reinterpret_cast<const void*>(chunk_callback.callback), "chunk.callback")) {
      return -1;
    }
    return submit(h, fn, read_request(buf, count, offset, flags), std::move(callbacks));
  });
}

NBDREF_EXPORT int64_t nbd_aio_pwrite(nbd_handle* h, const void* buf, size_t count, uint64_t offset,
                                     nbd_completion_callback completion_callback, uint32_t flags) {
  return entry("nbd_aio_pwrite", int64_t{-1}, [&](const char* fn) -> int64_t {
    auto callbacks = h->callbacks.acquire(completion_callback);
    if (missing(fn, buf, "buf")) return -1;
    return submit(h, fn, write_request(buf, count, offset, flags), std::move(callbacks));
  });
}

namespace {

int64_t submit_plain(nbd_handle* h, const char* function, std::uint16_t type, uint64_t count,
                     uint64_t offset, nbd_completion_callback completion, uint32_t flags) {
  return entry(function, int64_t{-1}, [&](const char* fn) {
    return submit(h, fn, engine::make_request(type, offset, count, flags),
                  h->callbacks.acquire(completion));
  });
}

}  // namespace

NBDREF_EXPORT int64_t nbd_aio_flush(nbd_handle* h, nbd_completion_callback completion_callback,
                                    uint32_t flags) {
  return submit_plain(h, "nbd_aio_flush", wire::NBD_CMD_FLUSH, 0, 0, completion_callback, flags);
}

NBDREF_EXPORT int64_t nbd_aio_trim(nbd_handle* h, uint64_t count, uint64_t offset,
                                   nbd_completion_callback completion_callback, uint32_t flags) {
  return submit_plain(h, "nbd_aio_trim", wire::NBD_CMD_TRIM, count, offset, completion_callback,
                      flags);
}

NBDREF_EXPORT int64_t nbd_aio_cache(nbd_handle* h, uint64_t count, uint64_t offset,
                                    nbd_completion_callback completion_callback, uint32_t flags) {
  return submit_plain(h, "nbd_aio_cache", wire::NBD_CMD_CACHE, count, offset, completion_callback,
                      flags);
}

NBDREF_EXPORT int64_t nbd_aio_zero(nbd_handle* h, uint64_t count, uint64_t offset,
                                   nbd_completion_callback completion_callback, uint32_t flags) {
  return submit_plain(h, "nbd_aio_zero", wire::NBD_CMD_WRITE_ZEROES, count, offset,
                      completion_callback, flags);
}

NBDREF_EXPORT int64_t nbd_aio_block_status(nbd_handle* h, uint64_t count, uint64_t offset,
                                           nbd_extent_callback extent_callback,
                                           nbd_completion_callback completion_callback,
                                           uint32_t flags) {
  return entry("nbd_aio_block_status", int64_t{-1}, [&](const char* fn) -> int64_t {
    auto callbacks = h->callbacks.acquire(completion_callback);
    callbacks->extents.emplace(extent_callback);
    if (missing(fn, reinterpret_cast<const void*>(extent_callback.callback), "extent.callback")) {
      return -1;
    }
    return submit(h, fn, engine::make_request(wire::NBD_CMD_BLOCK_STATUS, offset, count, flags),
                  std::move(callbacks));
  });
}

NBDREF_EXPORT int64_t nbd_aio_block_status_64(nbd_handle* h, uint64_t count, uint64_t offset,
                                              nbd_extent64_callback extent64_callback,
                                              nbd_completion_callback completion_callback,
                                              uint32_t flags) {
  return entry("nbd_aio_block_status_64", int64_t{-1}, [&](const char* fn) -> int64_t {
    auto callbacks = h->callbacks.acquire(completion_callback);
    callbacks->extents64.emplace(extent64_callback);
    if (missing(fn, reinterpret_cast<const void*>(extent64_callback.callback),
                "extent64.callback")) {
      return -1;
    }
    return submit(h, fn, engine::make_request(wire::NBD_CMD_BLOCK_STATUS, offset, count, flags),
                  std::move(callbacks));
  });
}

NBDREF_EXPORT int nbd_aio_disconnect(nbd_handle* h, uint32_t flags) {
  return entry("nbd_aio_disconnect", -1, [&](const char* fn) {
    if (flags != 0) {
      capi::set_error(fn, EINVAL, "flags must be 0");
      return -1;
    }
    return to_int(fn, h->impl.disconnect());
  });
}
