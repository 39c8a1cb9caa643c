#include "engine_harness.hpp"

#include <gtest/gtest.h>

#include "wire/limits.hpp"
#include "wire/option_request.hpp"

namespace nbdref::test {

using namespace wire;

EngineHarness::EngineHarness(engine::ConnectionConfig config, FeedMode mode)
    : conn_(std::move(config)), mode_(mode) {}

void EngineHarness::server_sends(const ByteVector& bytes) {
  // A server answers what it has read: everything the client queued goes
  // out first (the client refuses replies to requests not yet sent).
  pull();
  for (const Bytes piece : feed_pieces(mode_, bytes)) conn_.feed(piece);
}

void EngineHarness::pull() {
  const auto out = conn_.take_output();
  sent_.insert(sent_.end(), out.begin(), out.end());
}

ByteVector EngineHarness::take(std::size_t n) {
  pull();
  if (sent_.size() - read_ < n) {
    ADD_FAILURE() << "client sent " << sent_.size() - read_ << " more bytes, expected at least "
                  << n;
    return ByteVector(n, 0);
  }
  ByteVector out(sent_.begin() + static_cast<std::ptrdiff_t>(read_),
                 sent_.begin() + static_cast<std::ptrdiff_t>(read_ + n));
  read_ += n;
  return out;
}

bool EngineHarness::client_silent() {
  pull();
  return read_ == sent_.size();
}

std::uint32_t EngineHarness::client_flags() {
  auto f = decode_client_flags(take(CLIENT_FLAGS_SIZE));
  return f ? *f : 0xffffffff;
}

SentOption EngineHarness::option() {
  auto h = decode_option_request_header(take(OPTION_REQUEST_HEADER_SIZE));
  if (!h) {
    ADD_FAILURE() << "client sent a bad option header: " << h.error().to_string();
    return {};
  }
  return {h->option, take(h->length)};
}

SentRequest EngineHarness::request() {
  SentRequest r;
  if (conn_.session().extended_headers) {
    auto h = decode_extended_request(take(EXTENDED_REQUEST_SIZE));
    if (!h) {
      ADD_FAILURE() << h.error().to_string();
      return r;
    }
    r.header = *h;
    if (h->flags & NBD_CMD_FLAG_PAYLOAD_LEN) r.payload = take(h->length);
  } else {
    auto h = decode_compact_request(take(COMPACT_REQUEST_SIZE));
    if (!h) {
      ADD_FAILURE() << h.error().to_string();
      return r;
    }
    r.header = *h;
    if (h->type == NBD_CMD_WRITE) r.payload = take(h->length);
  }
  return r;
}

void EngineHarness::answer_set_meta_context(std::uint32_t context_id) {
  auto set = option();
  EXPECT_EQ(set.option, NBD_OPT_SET_META_CONTEXT);
  server_sends(meta_context(NBD_OPT_SET_META_CONTEXT, context_id, "base:allocation") +
               ack(NBD_OPT_SET_META_CONTEXT));
}

void EngineHarness::answer_go(std::uint64_t size, std::uint16_t flags,
                              std::optional<InfoBlockSize> block_size) {
  auto go = option();
  EXPECT_EQ(go.option, NBD_OPT_GO);
  ByteVector replies = info_export(NBD_OPT_GO, size, flags);
  if (block_size) replies = replies + info_reply(NBD_OPT_GO, *block_size);
  server_sends(replies + ack(NBD_OPT_GO));
}

void EngineHarness::handshake_compact(std::uint64_t size, std::uint16_t flags, bool structured,
                                      std::optional<InfoBlockSize> block_size) {
  server_sends(newstyle_greeting());
  client_flags();
  EXPECT_EQ(option().option, NBD_OPT_EXTENDED_HEADERS);
  server_sends(option_reply(NBD_OPT_EXTENDED_HEADERS, NBD_REP_ERR_UNSUP));
  EXPECT_EQ(option().option, NBD_OPT_STRUCTURED_REPLY);
  server_sends(structured ? ack(NBD_OPT_STRUCTURED_REPLY)
                          : option_reply(NBD_OPT_STRUCTURED_REPLY, NBD_REP_ERR_UNSUP));
  if (!conn_.config().meta_contexts.empty() && structured) answer_set_meta_context(1);
  answer_go(size, flags, block_size);
  ASSERT_EQ(conn_.phase(), engine::Phase::Ready) << error_message();
}

void EngineHarness::negotiate_extended_headers() {
  server_sends(newstyle_greeting());
  client_flags();
  EXPECT_EQ(option().option, NBD_OPT_EXTENDED_HEADERS);
  server_sends(ack(NBD_OPT_EXTENDED_HEADERS));
}

void EngineHarness::handshake_extended(std::uint64_t size, std::uint16_t flags) {
  negotiate_extended_headers();
  if (!conn_.config().meta_contexts.empty()) answer_set_meta_context(1);
  answer_go(size, flags);
  ASSERT_EQ(conn_.phase(), engine::Phase::Ready) << error_message();
}

void RecordingListener::on_read_chunk(std::span<const std::uint8_t> data, std::uint64_t offset,
                                      engine::ReadChunk kind, int& error) {
  chunks.push_back({ByteVector(data.begin(), data.end()), offset, kind, error});
  if (fail_chunks_with) error = fail_chunks_with;
}

void RecordingListener::on_extents(const engine::MetaContext& context, std::uint64_t offset,
                                   std::span<const BlockDescriptor> e, int&) {
  extents.push_back({context.name, offset, {e.begin(), e.end()}});
}

void RecordingListener::on_complete(const engine::CommandOutcome& outcome) {
  outcomes.push_back(outcome);
}

void RecordingOptionListener::on_export(std::string_view name, std::string_view description) {
  exports.emplace_back(name, description);
}

void RecordingOptionListener::on_context(std::string_view name) {
  contexts.emplace_back(name);
}

void RecordingOptionListener::on_option_complete(const Result<void>& result) {
  results.push_back(result);
}

}  // namespace nbdref::test
