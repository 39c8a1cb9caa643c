// The probe against canned server bytes over a socketpair: framing it must
// refuse (each naming its clause), complete replies it must assemble, and
// deadlines that turn silence into a timeout.
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "probe/probe.hpp"
#include "probe/probe_error.hpp"
#include "wire/constants.hpp"
#include "wire/handshake.hpp"
#include "wire/option_reply.hpp"
#include "wire/reply.hpp"
#include "wire/writer.hpp"

namespace nbdref::conform {
namespace {

using namespace std::chrono_literals;

// A probe whose server is the other end of a socketpair, written to by the
// test before the probe reads.
class ProbeOverSocketpair : public ::testing::Test {
 protected:
  void SetUp() override {
    int ends[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, ends), 0);
    server_.reset(ends[1]);
    transcript_ = std::make_shared<Transcript>("test");
    probe_.emplace(ByteChannel::from_socket(transport::UniqueFd(ends[0]), "a socketpair",
                                            Deadline::after(500ms), transcript_));
  }

  void server_sends(const std::vector<std::uint8_t>& bytes) {
    ASSERT_EQ(::write(server_.get(), bytes.data(), bytes.size()),
              static_cast<ssize_t>(bytes.size()));
  }

  std::vector<std::uint8_t> option_reply(std::uint32_t option, std::uint32_t type,
                                         const std::vector<std::uint8_t>& payload = {}) {
    std::vector<std::uint8_t> out;
    wire::Writer w(out);
    wire::encode_option_reply(option, type, payload, w);
    return out;
  }

  // Runs `f` and returns the ProbeError it throws.
  template <class F>
  ProbeError error_of(F f) {
    try {
      f();
    } catch (const ProbeError& e) {
      return e;
    }
    ADD_FAILURE() << "no ProbeError thrown";
    return ProbeError(ProbeError::Kind::Io, "none");
  }

  transport::UniqueFd server_;
  std::shared_ptr<Transcript> transcript_;
  std::optional<Probe> probe_;
};

TEST_F(ProbeOverSocketpair, ReadsNewstyleGreeting) {
  std::vector<std::uint8_t> bytes;
  wire::Writer w(bytes);
  wire::encode_newstyle_greeting({wire::NBD_FLAG_FIXED_NEWSTYLE}, w);
  server_sends(bytes);
  const Greeting g = probe_->read_greeting();
  EXPECT_EQ(g.style, wire::GreetingStyle::Newstyle);
  EXPECT_EQ(g.handshake_flags, wire::NBD_FLAG_FIXED_NEWSTYLE);
  ASSERT_TRUE(probe_->greeting());
}

TEST_F(ProbeOverSocketpair, WrongGreetingMagicIsAViolation) {
  server_sends(std::vector<std::uint8_t>(18, 0x41));
  const ProbeError e = error_of([&] { probe_->read_greeting(); });
  EXPECT_EQ(e.kind(), ProbeError::Kind::Violation);
}

TEST_F(ProbeOverSocketpair, CollectsOptionRepliesUpToTheFinalOne) {
  std::vector<std::uint8_t> bytes;
  for (const auto& part :
       {option_reply(wire::NBD_OPT_LIST, wire::NBD_REP_SERVER, {0, 0, 0, 1, 'a'}),
        option_reply(wire::NBD_OPT_LIST, wire::NBD_REP_SERVER, {0, 0, 0, 1, 'b'}),
        option_reply(wire::NBD_OPT_LIST, wire::NBD_REP_ACK)}) {
    bytes.insert(bytes.end(), part.begin(), part.end());
  }
  server_sends(bytes);
  const OptionReplies r = probe_->read_option_replies(wire::NBD_OPT_LIST);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].type, wire::NBD_REP_SERVER);
  EXPECT_EQ(r[2].type, wire::NBD_REP_ACK);
  EXPECT_NE(transcript_->text(false).find("export \"b\""), std::string::npos);
}

TEST_F(ProbeOverSocketpair, ReplyForAnotherOptionIsAViolationOfS_OPT_020) {
  server_sends(option_reply(wire::NBD_OPT_LIST, wire::NBD_REP_ACK));
  const ProbeError e = error_of([&] { probe_->read_option_reply(wire::NBD_OPT_INFO); });
  EXPECT_EQ(e.kind(), ProbeError::Kind::Violation);
  EXPECT_EQ(e.clause(), "S-OPT-020");
}

TEST_F(ProbeOverSocketpair, WrongOptionReplyMagicIsAViolationOfS_OPT_020) {
  auto bytes = option_reply(wire::NBD_OPT_LIST, wire::NBD_REP_ACK);
  bytes[0] ^= 0xff;
  server_sends(bytes);
  const ProbeError e = error_of([&] { probe_->read_option_reply(wire::NBD_OPT_LIST); });
  EXPECT_EQ(e.clause(), "S-OPT-020");
}

TEST_F(ProbeOverSocketpair, OversizedOptionReplyIsRefusedBeforeReadingIt) {
  std::vector<std::uint8_t> bytes;
  wire::Writer w(bytes);
  wire::encode_option_reply_header({wire::NBD_OPT_LIST, wire::NBD_REP_SERVER, 1u << 30}, w);
  server_sends(bytes);
  const ProbeError e = error_of([&] { probe_->read_option_reply(wire::NBD_OPT_LIST); });
  EXPECT_EQ(e.kind(), ProbeError::Kind::Violation);
  EXPECT_EQ(e.clause(), "S-GEN-003");
}

TEST_F(ProbeOverSocketpair, SilenceBecomesATimeoutAtTheDeadline) {
  const auto start = std::chrono::steady_clock::now();
  const ProbeError e = error_of([&] { probe_->read_option_reply(wire::NBD_OPT_LIST); });
  EXPECT_EQ(e.kind(), ProbeError::Kind::Timeout);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 450ms);
}

TEST_F(ProbeOverSocketpair, EndOfStreamIsAClose) {
  server_sends({0x00, 0x03});
  server_.reset();
  const ProbeError e = error_of([&] { probe_->read_option_reply(wire::NBD_OPT_LIST); });
  EXPECT_EQ(e.kind(), ProbeError::Kind::Closed);
  EXPECT_NE(std::string(e.what()).find("2 of 20 bytes"), std::string::npos);
}

TEST_F(ProbeOverSocketpair, SimpleReadReplyCarriesTheData) {
  const auto request = probe_->send_request(wire::NBD_CMD_READ, 0, 0, 4);
  std::vector<std::uint8_t> bytes;
  wire::Writer w(bytes);
  wire::encode_simple_reply({0, request.cookie}, w);
  w.bytes(std::vector<std::uint8_t>{1, 2, 3, 4});
  server_sends(bytes);
  const TransmissionReply reply = probe_->read_reply(request);
  EXPECT_TRUE(reply.is_simple());
  EXPECT_EQ(reply.data, (std::vector<std::uint8_t>{1, 2, 3, 4}));
}

TEST_F(ProbeOverSocketpair, WrongCookieIsAViolationOfS_TX_002) {
  const auto request = probe_->send_request(wire::NBD_CMD_FLUSH, 0, 0, 0);
  std::vector<std::uint8_t> bytes;
  wire::Writer w(bytes);
  wire::encode_simple_reply({0, request.cookie ^ 1}, w);
  server_sends(bytes);
  const ProbeError e = error_of([&] { probe_->read_reply(request); });
  EXPECT_EQ(e.clause(), "S-TX-002");
}

TEST_F(ProbeOverSocketpair, UnknownReplyMagicWithoutStructuredRepliesNamesS_TX_001) {
  const auto request = probe_->send_request(wire::NBD_CMD_READ, 0, 0, 4);
  // A failed READ's simple reply followed by data it must not carry.
  std::vector<std::uint8_t> bytes;
  wire::Writer w(bytes);
  wire::encode_simple_reply({wire::NBD_EINVAL, request.cookie}, w);
  w.bytes(std::vector<std::uint8_t>(16, 0));
  server_sends(bytes);
  EXPECT_EQ(probe_->read_reply(request).error(), wire::NBD_EINVAL);
  const auto next = probe_->send_request(wire::NBD_CMD_FLUSH, 0, 0, 0);
  const ProbeError e = error_of([&] { probe_->read_reply(next); });
  EXPECT_EQ(e.kind(), ProbeError::Kind::Violation);
  EXPECT_EQ(e.clause(), "S-TX-001") << e.what();
}

TEST_F(ProbeOverSocketpair, MissingPaddingAfterTheExportReplyIsAViolationOfS_HS_017) {
  std::vector<std::uint8_t> bytes;
  wire::Writer w(bytes);
  wire::encode_export_name_reply({64 << 20, wire::NBD_FLAG_HAS_FLAGS}, false, w);
  server_sends(bytes);
  const ProbeError e = error_of([&] { probe_->read_export_name_reply(true); });
  EXPECT_EQ(e.kind(), ProbeError::Kind::Violation);
  EXPECT_EQ(e.clause(), "S-HS-017") << e.what();
}

TEST_F(ProbeOverSocketpair, StructuredReplyIsReadUpToTheDoneChunk) {
  const auto request = probe_->send_request(wire::NBD_CMD_READ, 0, 0, 8);
  std::vector<std::uint8_t> bytes;
  wire::Writer w(bytes);
  wire::encode_structured_reply_header(
      {0, wire::NBD_REPLY_TYPE_OFFSET_DATA, request.cookie, 0, 8 + 8}, w);
  w.be64(0);
  w.bytes(std::vector<std::uint8_t>(8, 7));
  wire::encode_structured_reply_header(
      {wire::NBD_REPLY_FLAG_DONE, wire::NBD_REPLY_TYPE_NONE, request.cookie, 0, 0}, w);
  server_sends(bytes);
  const TransmissionReply reply = probe_->read_reply(request);
  EXPECT_EQ(reply.kind, wire::ReplyKind::Structured);
  ASSERT_EQ(reply.chunks.size(), 2u);
  EXPECT_EQ(reply.chunks[0].payload.size(), 16u);
  EXPECT_EQ(reply.error(), 0u);
}

TEST_F(ProbeOverSocketpair, ChunkLongerThanTheReadIsRefusedCitingS_SR_021) {
  const auto request = probe_->send_request(wire::NBD_CMD_READ, 0, 0, 8);
  std::vector<std::uint8_t> bytes;
  wire::Writer w(bytes);
  wire::encode_structured_reply_header(
      {wire::NBD_REPLY_FLAG_DONE, wire::NBD_REPLY_TYPE_OFFSET_DATA, request.cookie, 0, 1u << 24},
      w);
  server_sends(bytes);
  const ProbeError e = error_of([&] { probe_->read_reply(request); });
  EXPECT_EQ(e.clause(), "S-SR-021");
}

TEST_F(ProbeOverSocketpair, RepliesOutOfOrderAreMatchedByCookie) {
  const auto first = probe_->send_request(wire::NBD_CMD_READ, 0, 0, 2);
  const auto second = probe_->send_request(wire::NBD_CMD_FLUSH, 0, 0, 0);
  EXPECT_EQ(probe_->in_flight(), 2u);
  std::vector<std::uint8_t> bytes;
  wire::Writer w(bytes);
  wire::encode_simple_reply({0, second.cookie}, w);
  wire::encode_simple_reply({0, first.cookie}, w);
  w.bytes(std::vector<std::uint8_t>{9, 8});
  server_sends(bytes);
  const TransmissionReply read = probe_->read_reply(first);
  EXPECT_EQ(read.data, (std::vector<std::uint8_t>{9, 8}));
  // The flush's reply came first and was kept.
  const Probe::Answer flush = probe_->read_next_reply();
  EXPECT_EQ(flush.request.cookie, second.cookie);
  EXPECT_TRUE(flush.reply.is_simple());
  EXPECT_EQ(probe_->in_flight(), 0u);
}

TEST_F(ProbeOverSocketpair, InterleavedChunksAreReassembledPerCookie) {
  const auto a = probe_->send_request(wire::NBD_CMD_READ, 0, 0, 4);
  const auto b = probe_->send_request(wire::NBD_CMD_READ, 0, 4, 4);
  std::vector<std::uint8_t> bytes;
  wire::Writer w(bytes);
  wire::encode_structured_reply_header({0, wire::NBD_REPLY_TYPE_OFFSET_DATA, a.cookie, 0, 12}, w);
  w.be64(0);
  w.bytes(std::vector<std::uint8_t>(4, 1));
  wire::encode_structured_reply_header(
      {wire::NBD_REPLY_FLAG_DONE, wire::NBD_REPLY_TYPE_OFFSET_DATA, b.cookie, 0, 12}, w);
  w.be64(4);
  w.bytes(std::vector<std::uint8_t>(4, 2));
  wire::encode_structured_reply_header(
      {wire::NBD_REPLY_FLAG_DONE, wire::NBD_REPLY_TYPE_NONE, a.cookie, 0, 0}, w);
  server_sends(bytes);
  const Probe::Answer first = probe_->read_next_reply();
  EXPECT_EQ(first.request.cookie, b.cookie);
  ASSERT_EQ(first.reply.chunks.size(), 1u);
  const Probe::Answer second = probe_->read_next_reply();
  EXPECT_EQ(second.request.cookie, a.cookie);
  EXPECT_EQ(second.reply.chunks.size(), 2u);
}

TEST_F(ProbeOverSocketpair, ChunkAfterTheDoneChunkIsAViolationOfS_SR_007) {
  const auto request = probe_->send_request(wire::NBD_CMD_FLUSH, 0, 0, 0);
  const auto other = probe_->send_request(wire::NBD_CMD_FLUSH, 0, 0, 0);
  std::vector<std::uint8_t> bytes;
  wire::Writer w(bytes);
  wire::encode_structured_reply_header(
      {wire::NBD_REPLY_FLAG_DONE, wire::NBD_REPLY_TYPE_NONE, request.cookie, 0, 0}, w);
  wire::encode_structured_reply_header(
      {wire::NBD_REPLY_FLAG_DONE, wire::NBD_REPLY_TYPE_NONE, request.cookie, 0, 0}, w);
  server_sends(bytes);
  EXPECT_EQ(probe_->read_reply(request).chunks.size(), 1u);
  const ProbeError e = error_of([&] { probe_->read_reply(other); });
  EXPECT_EQ(e.clause(), "S-SR-007");
}

TEST_F(ProbeOverSocketpair, DiscIsNeverInFlight) {
  probe_->send_request(wire::NBD_CMD_DISC, 0, 0, 0);
  EXPECT_EQ(probe_->in_flight(), 0u);
}

TEST_F(ProbeOverSocketpair, AwaitCloseSeesEndOfStream) {
  server_.reset();
  const auto wait = probe_->channel().await_close(200ms);
  EXPECT_TRUE(wait.closed);
  EXPECT_TRUE(wait.bytes.empty());
}

TEST_F(ProbeOverSocketpair, AwaitCloseReportsBytesInsteadOfAClose) {
  server_sends({1, 2, 3});
  const auto wait = probe_->channel().await_close(100ms);
  EXPECT_FALSE(wait.closed);
  EXPECT_EQ(wait.bytes, (std::vector<std::uint8_t>{1, 2, 3}));
}

}  // namespace
}  // namespace nbdref::conform
