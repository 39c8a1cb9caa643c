// The greeting, the client flags, NBD_OPT_EXPORT_NAME and the entry points
// that start a session part way through a conversation (proto.md
// "Handshake", "Handshake flags", "Client flags").
#include <gtest/gtest.h>

#include "session_test_fixture.hpp"

namespace nbdref::mock::test {
namespace {

using namespace wire;

// The default export's flags without and with reply payloads negotiated.
constexpr std::uint16_t PLAIN_FLAGS = NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH | NBD_FLAG_SEND_FUA |
                                      NBD_FLAG_SEND_TRIM | NBD_FLAG_SEND_WRITE_ZEROES |
                                      NBD_FLAG_CAN_MULTI_CONN | NBD_FLAG_SEND_CACHE |
                                      NBD_FLAG_SEND_FAST_ZERO;
constexpr std::uint16_t CHUNKED_FLAGS = PLAIN_FLAGS | NBD_FLAG_SEND_DF;

ByteVector name_bytes(std::string_view s) {
  return ByteVector(s.begin(), s.end());
}

class Handshake : public SessionTest {};
NBDREF_SESSION_TEST_SUITE(Handshake);

TEST_P(Handshake, NewstyleGreetingOffersFixedNewstyleAndNoZeroes) {
  auto d = make();
  d.session().start_with_greeting();
  const ByteVector golden = {'N', 'B', 'D', 'M', 'A', 'G', 'I', 'C',  'I',
                             'H', 'A', 'V', 'E', 'O', 'P', 'T', 0x00, 0x03};
  EXPECT_EQ(d.take(golden.size()), golden);
  EXPECT_TRUE(d.server_silent());
  EXPECT_EQ(d.session().phase(), SessionPhase::Greeting);
}

TEST_P(Handshake, GreetingOffersOnlyWhatTheConfigAllows) {
  auto config = default_config();
  config.fixed_newstyle = false;
  config.no_zeroes = false;
  auto d = make(config);
  d.session().start_with_greeting();
  auto g = decode_newstyle_greeting(d.take(NEWSTYLE_GREETING_SIZE));
  ASSERT_TRUE(g);
  EXPECT_EQ(g->handshake_flags, 0);
}

TEST_P(Handshake, OldstyleGreetingDescribesTheFirstExportThenServes) {
  auto config = default_config();
  config.oldstyle = true;
  auto d = make(config);
  d.session().start_with_greeting();
  auto g = decode_oldstyle_greeting(d.take(OLDSTYLE_GREETING_SIZE));
  ASSERT_TRUE(g) << g.error().to_string();
  EXPECT_EQ(g->export_size, 1u << 20);
  EXPECT_EQ(g->handshake_flags(), 0);  // S-HS-018
  EXPECT_EQ(g->transmission_flags(), PLAIN_FLAGS);
  EXPECT_EQ(d.session().phase(), SessionPhase::Transmission);
  d.send_request(request(NBD_CMD_READ, 0, 512));
  const auto r = d.reply(512);
  EXPECT_TRUE(r.simple);
  EXPECT_EQ(r.data, ByteVector(512, 0));
}

TEST_P(Handshake, UnknownClientFlagsEndTheSession) {
  auto d = make();
  d.open(NBD_FLAG_C_FIXED_NEWSTYLE | 0x10);
  EXPECT_TRUE(d.session().finished());
  ASSERT_TRUE(d.session().client_violation());
  EXPECT_NE(d.session().client_violation()->find("C-HS-013"), std::string::npos);
  EXPECT_TRUE(d.server_silent());
}

TEST_P(Handshake, NoZeroesUnofferedEndsTheSession) {
  auto config = default_config();
  config.no_zeroes = false;
  auto d = make(config);
  d.open(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
  ASSERT_TRUE(d.session().client_violation());
  EXPECT_NE(d.session().client_violation()->find("C-HS-012"), std::string::npos);
}

TEST_P(Handshake, FixedNewstyleUnofferedEndsTheSession) {
  auto config = default_config();
  config.fixed_newstyle = false;
  auto d = make(config);
  d.open(NBD_FLAG_C_FIXED_NEWSTYLE);
  ASSERT_TRUE(d.session().client_violation());
  EXPECT_NE(d.session().client_violation()->find("S-HS-020"), std::string::npos);
}

TEST_P(Handshake, ExportNamePadsTheReplyUnlessNoZeroesWasAgreed) {
  for (const bool no_zeroes : {false, true}) {
    auto d = make();
    d.open(NBD_FLAG_C_FIXED_NEWSTYLE | (no_zeroes ? NBD_FLAG_C_NO_ZEROES : 0u));
    d.send_option(NBD_OPT_EXPORT_NAME, name_bytes("disk"));
    const std::size_t size = EXPORT_NAME_REPLY_SIZE + (no_zeroes ? 0 : EXPORT_NAME_REPLY_PADDING);
    const auto bytes = d.take(size);
    auto r = decode_export_name_reply(bytes);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->export_size, 1u << 20);
    EXPECT_EQ(r->transmission_flags, PLAIN_FLAGS);  // S-TX-019: no DF without chunks
    EXPECT_TRUE(std::all_of(bytes.begin() + EXPORT_NAME_REPLY_SIZE, bytes.end(),
                            [](std::uint8_t b) { return b == 0; }));
    EXPECT_TRUE(d.server_silent());
    EXPECT_EQ(d.session().phase(), SessionPhase::Transmission);
  }
}

TEST_P(Handshake, ExportNameAfterStructuredRepliesAdvertisesDf) {
  auto d = make();
  d.open();
  d.expect_ack(NBD_OPT_STRUCTURED_REPLY);
  d.send_option(NBD_OPT_EXPORT_NAME, name_bytes("disk"));
  auto r = decode_export_name_reply(d.take(EXPORT_NAME_REPLY_SIZE));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->transmission_flags, CHUNKED_FLAGS);
  d.send_request(request(NBD_CMD_READ, 0, 4096));
  const auto reply = d.reply();
  ASSERT_EQ(reply.chunks.size(), 1u);
  EXPECT_EQ(reply.chunks[0].header.type, NBD_REPLY_TYPE_OFFSET_HOLE);
}

TEST_P(Handshake, ExportNameOfAnUnknownExportClosesWithoutAReply) {
  auto d = make();
  d.open();
  d.send_option(NBD_OPT_EXPORT_NAME, name_bytes("nosuch"));
  EXPECT_TRUE(d.session().finished());
  EXPECT_FALSE(d.session().client_violation());
  EXPECT_NE(d.session().end_reason().find("S-HS-005"), std::string::npos);
  EXPECT_TRUE(d.server_silent());
}

TEST_P(Handshake, EmptyExportNameSelectsTheDefaultExport) {
  auto config = default_config();
  config.exports.push_back(test_export("second", 4096));
  auto d = make(config);
  d.open();
  d.send_option(NBD_OPT_EXPORT_NAME);
  auto r = decode_export_name_reply(d.take(EXPORT_NAME_REPLY_SIZE));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->export_size, 1u << 20);
}

TEST_P(Handshake, PlainNewstyleClientMayUseExportName) {
  auto d = make();
  d.open(0);
  d.send_option(NBD_OPT_EXPORT_NAME, name_bytes("disk"));
  auto r = decode_export_name_reply(d.take(EXPORT_NAME_REPLY_SIZE + EXPORT_NAME_REPLY_PADDING));
  ASSERT_TRUE(r);
  EXPECT_EQ(d.session().phase(), SessionPhase::Transmission);
}

TEST_P(Handshake, PlainNewstyleClientSendingOtherOptionsIsDropped) {
  auto d = make();
  d.open(0);
  d.send_option(NBD_OPT_LIST);
  EXPECT_TRUE(d.session().finished());
  ASSERT_TRUE(d.session().client_violation());
  EXPECT_NE(d.session().client_violation()->find("C-HS-003"), std::string::npos);
  EXPECT_TRUE(d.server_silent());
}

TEST_P(Handshake, StartAfterGreetingWaitsForTheClientFlags) {
  auto d = make();
  d.session().start_after_greeting();
  EXPECT_TRUE(d.server_silent());
  d.send_client_flags(NBD_FLAG_C_FIXED_NEWSTYLE);
  d.expect_ack(NBD_OPT_STRUCTURED_REPLY);
}

TEST_P(Handshake, StartInOptionsTakesTheFirstOption) {
  auto d = make();
  d.session().start_in_options(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
  EXPECT_TRUE(d.server_silent());
  d.send_option(NBD_OPT_EXPORT_NAME, name_bytes("disk"));
  EXPECT_TRUE(decode_export_name_reply(d.take(EXPORT_NAME_REPLY_SIZE)));
  EXPECT_TRUE(d.server_silent());
}

TEST_P(Handshake, StartInTransmissionServesWithTheGivenContext) {
  auto d = make();
  ASSERT_TRUE(d.session().start_in_transmission("disk", true, false, 42));
  EXPECT_EQ(d.session().phase(), SessionPhase::Transmission);
  d.send_request(request(NBD_CMD_BLOCK_STATUS, 0, 8192));
  const auto r = d.reply();
  ASSERT_EQ(r.chunks.size(), 1u);
  auto status = decode_block_status(r.chunks[0].payload);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->context_id(), 42u);
}

TEST_P(Handshake, StartInTransmissionRefusesWhatItCannotServe) {
  auto d = make();
  EXPECT_FALSE(d.session().start_in_transmission("nosuch", true, false));
  EXPECT_FALSE(d.session().start_in_transmission("disk", false, false, 1));
  EXPECT_EQ(d.session().phase(), SessionPhase::NotStarted);
  EXPECT_EQ(d.session().feed(ByteVector(4, 0)), 0u);
}

}  // namespace
}  // namespace nbdref::mock::test
