// Helpers of the player tests: scripts from text, golden bytes built field
// by field from the layouts of proto.md (independently of the wire
// encoders the player uses), the raw client end of an InProcessServer with
// bounded waits, and an in-memory channel that records each write.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "script/step.hpp"
#include "server/channel.hpp"
#include "server/in_process_server.hpp"
#include "server/player.hpp"

namespace nbdref::mock::test {

using ByteVector = std::vector<std::uint8_t>;
using namespace std::chrono_literals;

// The script `text` describes; a test failure (and an empty script) when
// it does not parse.
script::Script parse(std::string_view text);

// Big-endian fields appended in order, as the spec's tables list them.
class Golden {
 public:
  Golden& u8(std::uint8_t v);
  Golden& u16(std::uint16_t v);
  Golden& u32(std::uint32_t v);
  Golden& u64(std::uint64_t v);
  Golden& bytes(const ByteVector& b);
  Golden& text(std::string_view s);
  Golden& zeros(std::size_t n);
  operator ByteVector() const { return out_; }  // NOLINT: golden values read as bytes
  const ByteVector& get() const { return out_; }

 private:
  ByteVector out_;
};

// ---- what a client sends, by hand ----
inline constexpr std::uint64_t NBDMAGIC = 0x4e42444d41474943ULL;
inline constexpr std::uint64_t IHAVEOPT = 0x49484156454F5054ULL;
inline constexpr std::uint64_t REPLY_MAGIC = 0x3e889045565a9ULL;
ByteVector client_flags(std::uint32_t flags);
ByteVector option(std::uint32_t opt, const ByteVector& data = {});
// NBD_OPT_INFO / NBD_OPT_GO data: name length, name, information requests.
ByteVector go_data(std::string_view name, std::vector<std::uint16_t> infos = {});
ByteVector compact_request(std::uint16_t flags, std::uint16_t type, std::uint64_t cookie,
                           std::uint64_t offset, std::uint32_t length);
ByteVector extended_request(std::uint16_t flags, std::uint16_t type, std::uint64_t cookie,
                            std::uint64_t offset, std::uint64_t length);
ByteVector concat(std::initializer_list<ByteVector> parts);

// The client's end of `server` (not owned), raw bytes, every wait bounded.
class RawClient {
 public:
  explicit RawClient(InProcessServer& server) : fd_(server.client_fd()) {}
  explicit RawClient(int fd) : fd_(fd) {}

  void send(const ByteVector& bytes);
  // Exactly n bytes; a test failure (and what did come) when they do not
  // arrive within `limit`.
  ByteVector read(std::size_t n, std::chrono::milliseconds limit = 5s);
  // What one read() returns once data is there (empty on timeout or EOF).
  ByteVector read_once(std::chrono::milliseconds limit = 5s);
  // Whether the server closed its sending side within `limit`, reading
  // (and dropping) at most a few bytes on the way.
  bool sees_eof(std::chrono::milliseconds limit = 5s);
  void shutdown_write();

 private:
  int fd_;
};

// The verdict within `limit`; a test failure and a Verdict saying so otherwise.
Verdict verdict_of(InProcessServer& server, std::chrono::milliseconds limit = 5s);

// Plays `script` on an InProcessServer whose client sends `client_bytes`
// then closes its sending side; returns the verdict and everything the
// server sent. For conversations fully known in advance.
struct Exchange {
  Verdict verdict;
  ByteVector sent;  // by the server
  std::string transcript;
};
Exchange converse(const script::Script& script, const ByteVector& client_bytes,
                  PlayOptions options = {});

// A Channel in memory: reads come from `input` (then Eof, or Timeout when
// `eof_after_input` is false); each write_all is kept as one entry.
class RecordingChannel : public Channel {
 public:
  explicit RecordingChannel(ByteVector input = {}, bool eof_after_input = true)
      : input_(input.begin(), input.end()), eof_(eof_after_input) {}

  ReadResult read_some(std::span<std::uint8_t> out, Clock::time_point deadline) override;
  bool write_all(std::span<const std::uint8_t> data, std::string& error) override;
  void shutdown_write() override { shut_write = true; }
  void close() override { closed = true; }

  struct Write {
    ByteVector bytes;
    Clock::time_point when;
  };
  std::vector<Write> writes;
  // Where each read happened: the number of writes made before it.
  std::vector<std::size_t> reads_after_writes;
  bool shut_write = false;
  bool closed = false;

  ByteVector all_written() const;

 private:
  std::deque<std::uint8_t> input_;
  bool eof_;
};

}  // namespace nbdref::mock::test
