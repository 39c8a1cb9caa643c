// The player's end of one connection: blocking reads with a deadline,
// writes, and the two ways of ending. FdChannel implements it over file
// descriptors: one socket (socketpair, Unix, TCP) or a read/write pair
// (stdin and stdout).
//
// SIGPIPE: writes to a socket use send(MSG_NOSIGNAL); writes to anything
// else (a pipe on stdout) block SIGPIPE in the writing thread for the call
// and discard the signal a broken pipe raised, so a vanished client is an
// EPIPE error, never a dead process -- without touching the process's
// signal dispositions. (The nbdref-mock CLI also ignores SIGPIPE.)
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace nbdref::mock {

using Clock = std::chrono::steady_clock;

struct ReadResult {
  enum class Status { Data, Eof, Timeout, Error };
  Status status = Status::Data;
  std::size_t count = 0;  // bytes read, for Data
  std::string error;      // what failed, for Error
  int errnum = 0;         // errno of the failure, for Error (ECONNRESET: the client reset)
};

class Channel {
 public:
  virtual ~Channel() = default;
  // Reads between 1 and out.size() bytes, waiting until `deadline`
  // (Clock::time_point::max(): for as long as it takes).
  virtual ReadResult read_some(std::span<std::uint8_t> out, Clock::time_point deadline) = 0;
  // Writes everything; false (with `error` set) when the client is gone.
  virtual bool write_all(std::span<const std::uint8_t> data, std::string& error) = 0;
  // Sends end-of-stream; reading goes on.
  virtual void shutdown_write() = 0;
  // Ends the connection both ways; later calls fail or do nothing.
  virtual void close() = 0;
};

class FdChannel final : public Channel {
 public:
  // One descriptor for both directions (a socket). Owned: closed by close()
  // and the destructor.
  explicit FdChannel(int fd);
  // Separate descriptors (stdin, stdout); `owned` says whether close() closes them.
  FdChannel(int read_fd, int write_fd, bool owned);
  // Closes owned descriptors.
  ~FdChannel() override;
  FdChannel(const FdChannel&) = delete;
  FdChannel& operator=(const FdChannel&) = delete;

  ReadResult read_some(std::span<std::uint8_t> out, Clock::time_point deadline) override;
  bool write_all(std::span<const std::uint8_t> data, std::string& error) override;
  // A socket: shutdown(SHUT_WR). A pipe: its write end is closed (when not
  // owned, /dev/null is put in its place, so the descriptor number stays
  // valid for its owner while the reader sees end-of-stream).
  void shutdown_write() override;
  // Owned descriptors are closed. Descriptors not owned stay open, but the
  // connection still ends: a socket is shut down both ways, a pipe pair gets
  // /dev/null in place of both ends.
  void close() override;

 private:
  int read_fd_;
  int write_fd_;
  bool owned_;
  bool write_is_socket_ = false;
  bool read_is_socket_ = false;
  bool write_shut_ = false;
  bool closed_ = false;
};

}  // namespace nbdref::mock
