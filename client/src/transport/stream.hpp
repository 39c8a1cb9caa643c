// A connected byte stream as the handle's poll loop sees it: every call
// returns at once, saying how far it got. Plain sockets implement it, and so
// does a TLS session over one (tls/tls_stream.hpp).
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

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
  // Failed: what went wrong when errno alone does not say it (a TLS
  // record that did not decrypt, an alert from the peer); else empty.
  std::string detail{};
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

  // True when the stream itself has bytes to send before its next read or
  // write can make progress (a TLS record only partly sent): poll fd() for
  // POLLOUT too, and then retry both the read and the write (an empty write
  // only flushes).
  virtual bool needs_write_readiness() const { return false; }

  // True when bytes already taken from the socket wait to be read (a TLS
  // record decrypted only in part): poll() would not announce them, so read
  // again before polling.
  virtual bool has_buffered_input() const { return false; }
};

}  // namespace nbdref::transport
