// Clients that break the protocol or try to make the server hold too much:
// each ends in a recorded violation and a finished session, with nothing
// buffered on the client's word (proto.md "Termination of the session
// during option haggling", "Size constraints").
#include <gtest/gtest.h>

#include "session_test_fixture.hpp"
#include "wire/limits.hpp"
#include "wire/option_request.hpp"

namespace nbdref::mock::test {
namespace {

using namespace wire;

ByteVector option_header(std::uint32_t option, std::uint32_t length) {
  ByteVector out;
  Writer w(out);
  w.be64(IHAVEOPT);
  w.be32(option);
  w.be32(length);
  return out;
}

void expect_violation(SessionDriver& d, const char* clause) {
  EXPECT_TRUE(d.session().finished());
  ASSERT_TRUE(d.session().client_violation());
  EXPECT_NE(d.session().client_violation()->find(clause), std::string::npos)
      << *d.session().client_violation();
  EXPECT_EQ(d.session().end_reason().find("dropped the client"), 0u);
}

class Hostile : public SessionTest {};
NBDREF_SESSION_TEST_SUITE(Hostile);

TEST_P(Hostile, HugeOptionLengthEndsTheSessionAtTheHeader) {
  auto d = make();
  d.open();
  auto bytes = option_header(NBD_OPT_GO, 0xffffffff);
  bytes.resize(bytes.size() + 1000, 0);
  EXPECT_EQ(d.send(bytes), OPTION_REQUEST_HEADER_SIZE);
  expect_violation(d, "S-HS-011");
  EXPECT_TRUE(d.server_silent());
}

TEST_P(Hostile, OptionLengthJustWithinTheBoundIsServed) {
  auto config = default_config();
  config.max_option_length = 1024;
  auto d = make(config);
  d.open();
  d.send_option(0x4000, ByteVector(1024, 1));
  EXPECT_EQ(d.option_reply().type, NBD_REP_ERR_UNSUP);
  d.send(option_header(0x4000, 1025));
  expect_violation(d, "S-HS-011");
}

TEST_P(Hostile, GarbageInsteadOfAnOptionEndsTheSession) {
  auto d = make();
  d.open();
  d.send(ByteVector{'G', 'E', 'T', ' ', '/', ' ', 'H', 'T', 'T', 'P', '/', '1', '.', '1', 13, 10});
  expect_violation(d, "Newstyle negotiation");
}

TEST_P(Hostile, GarbageInsteadOfARequestEndsTheSession) {
  auto d = make();
  d.connect(ReplyStyle::Structured);
  d.send(ByteVector(COMPACT_REQUEST_SIZE, 0x41));
  expect_violation(d, "Request message");
  EXPECT_TRUE(d.server_silent());
}

TEST_P(Hostile, CompactRequestAfterExtendedHeadersEndsTheSession) {
  auto d = make();
  d.connect(ReplyStyle::Extended);
  ByteVector h(EXTENDED_REQUEST_SIZE);
  encode_compact_request(request(NBD_CMD_READ, 0, 512), h.data());
  d.send(h);
  expect_violation(d, "X-C-013");
}

TEST_P(Hostile, AnOptionAfterGoEndsTheSession) {
  auto d = make();
  d.connect(ReplyStyle::Structured);
  auto bytes = option_header(NBD_OPT_LIST, 0);
  bytes.resize(COMPACT_REQUEST_SIZE, 0);
  d.send(bytes);
  expect_violation(d, "C-OPT-014");
}

TEST_P(Hostile, WritePayloadBeyondTheBoundEndsTheSessionUnbuffered) {
  auto d = make();
  d.connect(ReplyStyle::Simple);
  ByteVector h(COMPACT_REQUEST_SIZE);
  encode_compact_request(request(NBD_CMD_WRITE, 0, MAX_HELD_PAYLOAD + 1), h.data());
  h.resize(h.size() + 4096, 0x77);
  EXPECT_EQ(d.send(h), COMPACT_REQUEST_SIZE);
  expect_violation(d, "C-SZ-008");
  EXPECT_TRUE(d.server_silent());
}

TEST_P(Hostile, ExtendedPayloadAboveTheMaximumEndsTheSession) {
  auto d = make();
  d.connect(ReplyStyle::Extended);
  ByteVector h(EXTENDED_REQUEST_SIZE);
  encode_extended_request(
      request(NBD_CMD_WRITE, 0, DEFAULT_MAX_PAYLOAD + 1, NBD_CMD_FLAG_PAYLOAD_LEN), h.data());
  EXPECT_EQ(d.send(h), EXTENDED_REQUEST_SIZE);
  expect_violation(d, "X-S-001");
}

TEST_P(Hostile, OverlongExportNameEndsTheSession) {
  auto d = make();
  d.open();
  d.send_option(NBD_OPT_EXPORT_NAME, ByteVector(MAX_STRING_LENGTH + 1, 'a'));
  expect_violation(d, "C-GEN-003");
  EXPECT_TRUE(d.server_silent());
}

TEST_P(Hostile, RequestsBeforeStartingAreNotTaken) {
  auto d = make();
  EXPECT_EQ(d.session().feed(ByteVector(100, 0)), 0u);
  EXPECT_FALSE(d.session().finished());
}

// Random bytes after each point a session can start from: the session
// never crashes, always makes progress, and only ever ends with a reason.
TEST_P(Hostile, RandomBytesNeverWedgeTheSession) {
  std::uint64_t state = 0x9e3779b97f4a7c15;
  const auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  for (int round = 0; round < 200; ++round) {
    auto d = make();
    switch (round % 4) {
      case 0:
        d.session().start_after_greeting();
        break;
      case 1:
        d.session().start_in_options(NBD_FLAG_C_FIXED_NEWSTYLE);
        break;
      case 2:
        ASSERT_TRUE(d.session().start_in_transmission("disk", true, false, 1));
        break;
      case 3:
        ASSERT_TRUE(d.session().start_in_transmission("disk", false, true, 1));
        break;
    }
    ByteVector bytes(next() % 300);
    for (auto& b : bytes) b = static_cast<std::uint8_t>(next());
    // Valid magics make the interesting paths reachable.
    if (round % 4 == 1 && bytes.size() >= 8) store_be64(bytes.data(), IHAVEOPT);
    if (round % 4 >= 2 && bytes.size() >= 4) {
      store_be32(bytes.data(), round % 4 == 2 ? NBD_REQUEST_MAGIC : NBD_EXTENDED_REQUEST_MAGIC);
    }
    const std::size_t taken = d.send(bytes);
    if (d.session().finished()) {
      EXPECT_FALSE(d.session().end_reason().empty());
    } else {
      EXPECT_EQ(taken, bytes.size());
    }
    d.session().take_output();
  }
}

TEST_P(Hostile, PipelinedReadsStopAtTheOutputHighWater) {
  auto config = default_config();
  config.exports[0] = test_export("disk", 32 << 20);
  auto d = make(config);
  d.connect(ReplyStyle::Structured);
  // One data page, so the replies carry data.
  d.send_request(request(NBD_CMD_WRITE, 0, 4096), pattern(4096, 1));
  EXPECT_EQ(d.reply().error_value(), 0u);
  ByteVector batch;
  constexpr int READS = 4;
  for (int i = 0; i < READS; ++i) {
    ByteVector h(COMPACT_REQUEST_SIZE);
    encode_compact_request(request(NBD_CMD_READ, 0, 32 << 20, NBD_CMD_FLAG_DF), h.data());
    batch.insert(batch.end(), h.begin(), h.end());
  }
  const std::size_t taken = d.session().feed(batch);
  EXPECT_LT(taken, batch.size());
  EXPECT_GE(d.session().output_size(), ServerSession::OUTPUT_HIGH_WATER);
  d.session().take_output();
  EXPECT_EQ(taken + d.session().feed(Bytes(batch).subspan(taken)), batch.size());
}

}  // namespace
}  // namespace nbdref::mock::test
