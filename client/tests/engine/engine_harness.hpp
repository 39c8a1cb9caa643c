// Drives an engine::Connection as a test's server would: feeds server bytes
// (whole, one byte at a time, or split in two), and parses what the client
// sent back into messages to assert on. No sockets, no threads.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/connection.hpp"
#include "server_messages.hpp"
#include "support/feed_mode.hpp"
#include "wire/request.hpp"

namespace nbdref::test {

struct SentOption {
  std::uint32_t option = 0;
  ByteVector data;
};

struct SentRequest {
  wire::RequestHeader header;
  ByteVector payload;  // WRITE data
};

class EngineHarness {
 public:
  explicit EngineHarness(engine::ConnectionConfig config = {}, FeedMode mode = FeedMode::Whole);

  engine::Connection& conn() { return conn_; }
  const engine::Session& session() const { return conn_.session(); }
  engine::Phase phase() const { return conn_.phase(); }
  std::string error_message() const { return conn_.error() ? conn_.error()->message : ""; }
  int error_errno() const { return conn_.error() ? conn_.error()->errnum : 0; }

  void server_sends(const ByteVector& bytes);
  void server_closes() { conn_.input_eof(); }

  // The client's next messages; each fails the test if absent or malformed.
  std::uint32_t client_flags();
  SentOption option();
  SentRequest request();
  // True when the client has sent nothing beyond what was already read.
  bool client_silent();

  // The greeting, the client's flags and its NBD_OPT_EXTENDED_HEADERS,
  // acknowledged: the client's next option follows.
  void negotiate_extended_headers();

  // Complete handshakes ending in transmission.
  // Compact headers: EXTENDED_HEADERS refused, STRUCTURED_REPLY as given.
  void handshake_compact(std::uint64_t size, std::uint16_t flags, bool structured = true,
                         std::optional<wire::InfoBlockSize> block_size = std::nullopt);
  // Extended headers acknowledged.
  void handshake_extended(std::uint64_t size, std::uint16_t flags);
  // Both with one meta context "base:allocation" under `context_id`
  // (the config must ask for it).
  void answer_set_meta_context(std::uint32_t context_id);
  void answer_go(std::uint64_t size, std::uint16_t flags,
                 std::optional<wire::InfoBlockSize> block_size = std::nullopt);

 private:
  ByteVector take(std::size_t n);
  void pull();

  engine::Connection conn_;
  FeedMode mode_;
  ByteVector sent_;  // client output not yet parsed
  std::size_t read_ = 0;
};

// Records everything the engine reports for the commands it is given.
class RecordingListener : public engine::CommandListener {
 public:
  struct Chunk {
    ByteVector data;
    std::uint64_t offset;
    engine::ReadChunk kind;
    int error_in;
  };
  struct Extents {
    std::string context;
    std::uint64_t offset;
    std::vector<wire::BlockDescriptor> extents;
  };

  void on_read_chunk(std::span<const std::uint8_t> data, std::uint64_t offset,
                     engine::ReadChunk kind, int& error) override;
  void on_extents(const engine::MetaContext& context, std::uint64_t offset,
                  std::span<const wire::BlockDescriptor> extents, int& error) override;
  void on_complete(const engine::CommandOutcome& outcome) override;

  std::vector<Chunk> chunks;
  std::vector<Extents> extents;
  std::vector<engine::CommandOutcome> outcomes;
  int fail_chunks_with = 0;  // when nonzero, chunk callbacks fail with this errno
};

class RecordingOptionListener : public engine::OptionListener {
 public:
  void on_export(std::string_view name, std::string_view description) override;
  void on_context(std::string_view name) override;
  void on_option_complete(const Result<void>& result) override;

  std::vector<std::pair<std::string, std::string>> exports;
  std::vector<std::string> contexts;
  std::vector<Result<void>> results;
};

}  // namespace nbdref::test
