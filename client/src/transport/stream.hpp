// A connected byte stream as the handle's poll loop sees it: every call
// returns at once, saying how far it got. Plain sockets implement it now; a
// TLS session over a socket will implement the same interface.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>

namespace nbdref::transport {

enum class IoStatus {
  Done,        // `bytes` were transferred
  WouldBlock,  // nothing can move now: poll fd() and try again
  Eof,         // the peer ended the stream (reads only)
  Failed,      // the stream is broken; `errnum` says why
};

struct IoResult {
  IoStatus status;
  std::size_t bytes = 0;
  int errnum = 0;
};

class Stream {
 public:
  virtual ~Stream() = default;

  // The descriptor to poll: POLLIN before read(), POLLOUT before write().
  virtual int fd() const = 0;

  // Reads up to into.size() bytes: Done with bytes > 0, Eof, WouldBlock or
  // Failed(errnum). An empty span reads nothing and gives Done with 0 bytes.
  virtual IoResult read(std::span<std::uint8_t> into) = 0;

  // Writes a prefix of the concatenated segments: Done with the number of
  // bytes taken (possibly fewer than offered), WouldBlock or Failed(errnum).
  // A peer that has gone away gives Failed(EPIPE), never SIGPIPE.
  virtual IoResult write(std::span<const iovec> segments) = 0;

  // Tells the peer we will send nothing more, as far as the stream can
  // (best effort: the conversation is ending either way).
  virtual void shutdown() = 0;
};

}  // namespace nbdref::transport
