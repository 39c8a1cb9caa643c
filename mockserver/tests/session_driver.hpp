// Drives a ServerSession as a test's client would: sends messages built
// with the wire encoders -- whole, one byte at a time, or split in two --
// and parses what the server sent back, so tests read as conversations.
// No sockets, no threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/server_session.hpp"
#include "support/feed_mode.hpp"
#include "wire/chunk.hpp"
#include "wire/constants.hpp"
#include "wire/handshake.hpp"
#include "wire/reply.hpp"
#include "wire/request.hpp"

namespace nbdref::mock::test {

using ByteVector = std::vector<std::uint8_t>;

using nbdref::test::feed_mode_name;
using nbdref::test::FeedMode;

struct OptionReply {
  std::uint32_t option = 0;
  std::uint32_t type = 0;
  ByteVector payload;

  std::string text() const { return std::string(payload.begin(), payload.end()); }
};

struct Chunk {
  wire::ChunkHeader header;
  ByteVector payload;
};

// One whole transmission reply: a simple reply, or chunks up to DONE.
struct Reply {
  bool simple = false;
  std::uint32_t error = 0;  // simple replies: the error field
  ByteVector data;          // simple replies to reads: the data
  std::vector<Chunk> chunks;

  // The error, simple or from the first error chunk (0 when none).
  std::uint32_t error_value() const;
  // The message of the first error chunk.
  std::string error_message() const;
};

// An export of `size` bytes named `name`, on a fresh disk.
ServedExport test_export(std::string name, std::uint64_t size, std::string description = {});
// One export "disk" of 1 MiB, every option and feature on.
ServeConfig default_config();

ByteVector pattern(std::size_t n, std::uint8_t seed);

class SessionDriver {
 public:
  explicit SessionDriver(ServeConfig config, FeedMode mode = FeedMode::Whole);

  ServerSession& session() { return session_; }

  // ---- client to server ----
  // Feeds `bytes` in the driver's mode; returns how many the session took
  // (all of them unless it finished part way).
  std::size_t send(const ByteVector& bytes);
  void send_client_flags(std::uint32_t flags);
  void send_option(std::uint32_t option, const ByteVector& data = {});
  // A request in the form negotiated (extended after set_extended).
  void send_request(const wire::RequestHeader& h, const ByteVector& payload = {});
  void set_extended(bool extended) { extended_ = extended; }

  // ---- server to client; each fails the test when absent ----
  ByteVector take(std::size_t n);
  OptionReply option_reply();
  // Replies to one option up to and including its final one (ACK or error).
  std::vector<OptionReply> option_replies();
  // A reply to a request; `read_length` is how much data a successful
  // simple reply carries.
  Reply reply(std::uint64_t read_length = 0);
  // True when the server has sent nothing beyond what was already parsed.
  bool server_silent();

  // ---- conversations ----
  // Greeting (checked), then `client_flags`: the session is in options.
  void open(std::uint32_t client_flags = wire::NBD_FLAG_C_FIXED_NEWSTYLE |
                                         wire::NBD_FLAG_C_NO_ZEROES);
  // An option expected to be acknowledged with nothing else.
  void expect_ack(std::uint32_t option, const ByteVector& data = {});
  // open(), then the options for `style` (and base:allocation when asked),
  // then NBD_OPT_GO on `name`: the session is in transmission.
  void connect(ReplyStyle style, bool allocation = false, std::string_view name = "disk");

 private:
  void pull();

  ServerSession session_;
  FeedMode mode_;
  bool extended_ = false;
  ByteVector received_;
  std::size_t read_ = 0;
};

// Option data builders.
ByteVector info_request(std::string_view name, std::vector<std::uint16_t> types = {});
ByteVector meta_request(std::string_view name, std::vector<std::string_view> queries);
wire::RequestHeader request(std::uint16_t type, std::uint64_t offset, std::uint64_t length,
                            std::uint16_t flags = 0, std::uint64_t cookie = 0x1122334455667788);

}  // namespace nbdref::mock::test
