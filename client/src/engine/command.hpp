// A transmission command as the engine's caller submits it, and the
// listener through which its results come back.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "engine/export_info.hpp"
#include "wire/chunk.hpp"

namespace nbdref::engine {

class CommandListener;

struct CommandRequest {
  std::uint16_t type = 0;  // wire::NBD_CMD_*
  std::uint32_t flags =
      0;  // wire::NBD_CMD_FLAG_* (libnbd's LIBNBD_CMD_FLAG_* have the same values)
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  std::uint8_t* read_buffer = nullptr;  // NBD_CMD_READ: `length` bytes, valid until completion
  const std::uint8_t* write_data =
      nullptr;                          // NBD_CMD_WRITE: `length` bytes, valid until completion
  CommandListener* listener = nullptr;  // may be null; must outlive the command
};

// A request without buffers or listener; callers fill in what their command needs.
inline CommandRequest make_request(std::uint16_t type, std::uint64_t offset, std::uint64_t length,
                                   std::uint32_t flags) {
  CommandRequest r;
  r.type = type;
  r.offset = offset;
  r.length = length;
  r.flags = flags;
  return r;
}

// How a READ's bytes arrived (libnbd's LIBNBD_READ_DATA / _HOLE / _ERROR).
enum class ReadChunk { Data = 1, Hole = 2, Error = 3 };

// The result of a command, delivered exactly once.
struct CommandOutcome {
  std::uint64_t cookie = 0;
  int errnum = 0;       // 0 on success
  std::string message;  // why it failed, when it did
};

// Called by the engine while it processes input. `error` is the command's
// error so far (0 if none); a listener that sets it to nonzero fails the
// command (the first error wins). Listeners must not call back into the
// engine that invokes them.
class CommandListener {
 public:
  virtual ~CommandListener() = default;
  // A READ's bytes have been placed in the caller's buffer: `data` points
  // into it. For ReadChunk::Error, `data` is empty and `error` holds the
  // server's error for `offset`.
  virtual void on_read_chunk(std::span<const std::uint8_t> data, std::uint64_t offset,
                             ReadChunk kind, int& error) {
    (void)data, (void)offset, (void)kind, (void)error;
  }
  // One status chunk of a BLOCK_STATUS reply: the extents for `context`,
  // starting at the request's offset.
  virtual void on_extents(const MetaContext& context, std::uint64_t offset,
                          std::span<const wire::BlockDescriptor> extents, int& error) {
    (void)context, (void)offset, (void)extents, (void)error;
  }
  virtual void on_complete(const CommandOutcome& outcome) = 0;
};

}  // namespace nbdref::engine
