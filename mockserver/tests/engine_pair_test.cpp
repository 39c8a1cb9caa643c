// The strongest check of the server: the project's own client engine, with
// every strict check on, talks to it in memory. Any byte the server gets
// wrong kills the client's connection with the clause it broke.
#include <cerrno>

#include <gtest/gtest.h>

#include "engine_pair.hpp"
#include "session_driver.hpp"

namespace nbdref::mock::test {
namespace {

using namespace wire;
using engine::CommandRequest;
using engine::Phase;

engine::ConnectionConfig client_config(std::string export_name = "disk") {
  engine::ConnectionConfig c;
  c.export_name = std::move(export_name);
  c.meta_contexts = {"base:allocation"};
  return c;
}

CommandRequest command(std::uint16_t type, std::uint64_t offset, std::uint64_t length,
                       std::uint32_t flags = 0) {
  return engine::make_request(type, offset, length, flags);
}

CommandRequest write_command(const ByteVector& data, std::uint64_t offset,
                             std::uint32_t flags = 0) {
  auto r = command(NBD_CMD_WRITE, offset, data.size(), flags);
  r.write_data = data.data();
  return r;
}

CommandRequest read_command(ByteVector& buffer, std::uint64_t offset, std::uint32_t flags = 0) {
  auto r = command(NBD_CMD_READ, offset, buffer.size(), flags);
  r.read_buffer = buffer.data();
  return r;
}

// Fails the test with the client's reason when the connection died.
void expect_alive(EnginePair& p) {
  EXPECT_NE(p.client().phase(), Phase::Dead) << p.client().error()->message;
  EXPECT_FALSE(p.server().client_violation()) << *p.server().client_violation();
}

// The three ways a handshake can end, by what the server offers.
struct Offer {
  const char* name;
  bool extended_headers;
  bool structured_replies;
};
constexpr Offer OFFERS[] = {
    {"Extended", true, true},
    {"Structured", false, true},
    {"Simple", false, false},
};

ServeConfig offering(const Offer& offer, std::uint64_t size = 4 << 20) {
  ServeConfig c;
  c.exports.push_back(test_export("disk", size, "engine test disk"));
  c.extended_headers = offer.extended_headers;
  c.structured_replies = offer.structured_replies;
  return c;
}

class EngineAgainstServer : public ::testing::TestWithParam<Offer> {
 protected:
  EnginePair pair(engine::ConnectionConfig config = client_config()) {
    return EnginePair(offering(GetParam()), std::move(config));
  }
  bool chunks() const { return GetParam().structured_replies || GetParam().extended_headers; }
};

INSTANTIATE_TEST_SUITE_P(Offers, EngineAgainstServer, ::testing::ValuesIn(OFFERS),
                         [](const auto& p) { return std::string(p.param.name); });

TEST_P(EngineAgainstServer, HandshakeAgreesOnWhatBothOffer) {
  auto p = pair();
  p.pump();
  ASSERT_EQ(p.client().phase(), Phase::Ready) << p.client().error()->message;
  const auto& s = p.client().session();
  EXPECT_EQ(s.extended_headers, GetParam().extended_headers);
  EXPECT_EQ(s.structured_replies, GetParam().structured_replies && !GetParam().extended_headers);
  EXPECT_EQ(s.export_info.size, 4u << 20);
  EXPECT_EQ(s.export_info.has(NBD_FLAG_SEND_DF), chunks());
  ASSERT_TRUE(s.export_info.block_sizes);
  EXPECT_EQ(s.export_info.block_sizes->minimum, 1u);
  EXPECT_EQ(s.export_info.block_sizes->maximum, 32u << 20);
  // Contexts need chunked replies, so the client only asks when it can use them.
  EXPECT_EQ(s.meta_contexts.size(), chunks() ? 1u : 0u);
  EXPECT_EQ(p.server().phase(), SessionPhase::Transmission);
}

TEST_P(EngineAgainstServer, EveryCommandRoundTrips) {
  auto p = pair();
  p.pump();
  ASSERT_EQ(p.client().phase(), Phase::Ready);
  const auto data = pattern(3 * 4096 + 100, 11);
  EXPECT_EQ(p.run(write_command(data, 4096 + 50, NBD_CMD_FLAG_FUA)).errnum, 0);
  ByteVector back(data.size());
  EXPECT_EQ(p.run(read_command(back, 4096 + 50)).errnum, 0);
  EXPECT_EQ(back, data);

  ByteVector whole(8 * 4096);
  EXPECT_EQ(p.run(read_command(whole, 0)).errnum, 0);
  EXPECT_EQ(ByteVector(whole.begin() + 4096 + 50, whole.begin() + 4096 + 50 + data.size()), data);

  EXPECT_EQ(p.run(command(NBD_CMD_FLUSH, 0, 0)).errnum, 0);
  EXPECT_EQ(p.run(command(NBD_CMD_CACHE, 0, 65536)).errnum, 0);
  EXPECT_EQ(p.run(command(NBD_CMD_TRIM, 8192, 4096)).errnum, 0);
  EXPECT_EQ(p.run(command(NBD_CMD_WRITE_ZEROES, 4096, 4096, NBD_CMD_FLAG_NO_HOLE)).errnum, 0);
  EXPECT_EQ(p.run(command(NBD_CMD_WRITE_ZEROES, 12288, 4096, NBD_CMD_FLAG_FAST_ZERO)).errnum, 0);
  ByteVector zeroed(3 * 4096);
  EXPECT_EQ(p.run(read_command(zeroed, 4096)).errnum, 0);
  EXPECT_EQ(ByteVector(zeroed.begin(), zeroed.begin() + 4096), ByteVector(4096, 0));
  EXPECT_EQ(ByteVector(zeroed.begin() + 8192, zeroed.end()), ByteVector(4096, 0));

  if (chunks()) {
    OutcomeListener status;
    EXPECT_EQ(p.run(command(NBD_CMD_BLOCK_STATUS, 0, 1 << 20), &status).errnum, 0);
    // Hole, zeroes kept allocated (NO_HOLE), trimmed page and fast-zeroed
    // page as one hole, the tail of the write, then the untouched rest.
    const std::vector<std::pair<std::uint64_t, std::uint64_t>> expected = {
        {4096, 3}, {4096, 2}, {8192, 3}, {4096, 0}, {(1 << 20) - 5 * 4096, 3}};
    std::vector<std::pair<std::uint64_t, std::uint64_t>> got;
    for (const auto& e : status.extents) got.emplace_back(e.length, e.status);
    EXPECT_EQ(got, expected);
    ByteVector df(3 * 4096);
    EXPECT_EQ(p.run(read_command(df, 0, NBD_CMD_FLAG_DF)).errnum, 0);
  }
  expect_alive(p);
}

TEST_P(EngineAgainstServer, ManyCommandsInFlightAllComplete) {
  auto p = pair();
  p.pump();
  ASSERT_EQ(p.client().phase(), Phase::Ready);
  constexpr std::size_t COUNT = 64;
  std::vector<ByteVector> writes;
  for (std::size_t i = 0; i < COUNT; ++i)
    writes.push_back(pattern(4096, static_cast<std::uint8_t>(i)));
  std::vector<ByteVector> reads(COUNT, ByteVector(4096));
  OutcomeListener listener;
  for (std::size_t i = 0; i < COUNT; ++i) {
    auto w = write_command(writes[i], i * 8192);
    w.listener = &listener;
    ASSERT_TRUE(p.client().submit(w));
  }
  for (std::size_t i = 0; i < COUNT; ++i) {
    auto r = read_command(reads[i], i * 8192);
    r.listener = &listener;
    ASSERT_TRUE(p.client().submit(r));
  }
  EXPECT_EQ(p.client().in_flight(), 2 * COUNT);
  p.pump();
  ASSERT_EQ(listener.outcomes.size(), 2 * COUNT);
  for (const auto& o : listener.outcomes) EXPECT_EQ(o.errnum, 0) << o.message;
  for (std::size_t i = 0; i < COUNT; ++i) EXPECT_EQ(reads[i], writes[i]) << "block " << i;
  expect_alive(p);
}

TEST_P(EngineAgainstServer, ServerErrorsReachTheClient) {
  auto config = client_config();
  config.strict = 0;  // let requests the client would refuse reach the server
  auto p = pair(config);
  p.pump();
  ASSERT_EQ(p.client().phase(), Phase::Ready);
  ByteVector past(8192);
  const auto out_of_range = p.run(read_command(past, (4 << 20) - 4096));
  EXPECT_EQ(out_of_range.errnum, EINVAL);
  if (chunks()) {
    EXPECT_NE(out_of_range.message.find("C-SZ-012"), std::string::npos);
  }
  EXPECT_EQ(p.run(write_command(ByteVector(512, 1), 4 << 20)).errnum, ENOSPC);
  EXPECT_EQ(p.run(command(NBD_CMD_TRIM, 0, 4096, NBD_CMD_FLAG_DF)).errnum, EINVAL);
  EXPECT_EQ(p.run(command(NBD_CMD_WRITE_ZEROES, 0, 0)).errnum, 0);
  expect_alive(p);
}

TEST_P(EngineAgainstServer, ZeroLengthRequestsSucceed) {
  auto config = client_config();
  config.strict = 0;  // the client itself refuses zero lengths (C-TX-020)
  auto p = pair(config);
  p.pump();
  ASSERT_EQ(p.client().phase(), Phase::Ready);
  ByteVector none;
  EXPECT_EQ(p.run(read_command(none, 4096)).errnum, 0);
  // X-C-016: with extended headers an empty write has no valid form, so the
  // client refuses it before it reaches the server.
  EXPECT_EQ(p.run(write_command(none, 4096)).errnum, GetParam().extended_headers ? EINVAL : 0);
  EXPECT_EQ(p.run(command(NBD_CMD_TRIM, 4096, 0)).errnum, 0);
  EXPECT_EQ(p.run(command(NBD_CMD_CACHE, 4096, 0)).errnum, 0);
  expect_alive(p);
}

TEST_P(EngineAgainstServer, FullInfoReportsNameAndDescription) {
  auto config = client_config("");
  config.full_info = true;
  auto p = pair(config);
  p.pump();
  ASSERT_EQ(p.client().phase(), Phase::Ready) << p.client().error()->message;
  const auto& info = p.client().session().export_info;
  EXPECT_EQ(info.canonical_name, std::optional<std::string>("disk"));
  EXPECT_EQ(info.description, std::optional<std::string>("engine test disk"));
}

TEST(EngineAgainstServerHandshake, OldstyleServer) {
  auto config = offering(OFFERS[0]);
  config.oldstyle = true;
  EnginePair p(config, client_config());
  p.pump();
  ASSERT_EQ(p.client().phase(), Phase::Ready) << p.client().error()->message;
  EXPECT_EQ(p.client().session().protocol, engine::Protocol::Oldstyle);
  const auto data = pattern(1000, 3);
  EXPECT_EQ(p.run(write_command(data, 0)).errnum, 0);
  ByteVector back(1000);
  EXPECT_EQ(p.run(read_command(back, 0)).errnum, 0);
  EXPECT_EQ(back, data);
}

TEST(EngineAgainstServerHandshake, PlainNewstyleServerWithAndWithoutPadding) {
  for (const bool no_zeroes : {false, true}) {
    auto config = offering(OFFERS[0]);
    config.fixed_newstyle = false;
    config.no_zeroes = no_zeroes;
    EnginePair p(config, client_config());
    p.pump();
    ASSERT_EQ(p.client().phase(), Phase::Ready) << p.client().error()->message;
    EXPECT_EQ(p.client().session().protocol, engine::Protocol::Newstyle);
    EXPECT_EQ(p.client().session().client_flags, no_zeroes ? NBD_FLAG_C_NO_ZEROES : 0u);
    ByteVector back(512);
    EXPECT_EQ(p.run(read_command(back, 0)).errnum, 0);
    expect_alive(p);
  }
}

TEST(EngineAgainstServerHandshake, ExportNameFallbackWhenGoIsMissing) {
  auto config = offering(OFFERS[1]);
  config.info_and_go = false;
  EnginePair p(config, client_config());
  p.pump();
  ASSERT_EQ(p.client().phase(), Phase::Ready) << p.client().error()->message;
  const auto& s = p.client().session();
  EXPECT_TRUE(s.structured_replies);
  EXPECT_TRUE(s.export_info.has(NBD_FLAG_SEND_DF));
  ASSERT_EQ(s.meta_contexts.size(), 1u);  // SET before EXPORT_NAME still counts
  OutcomeListener status;
  EXPECT_EQ(p.run(command(NBD_CMD_BLOCK_STATUS, 0, 65536), &status).errnum, 0);
  expect_alive(p);
}

TEST(EngineAgainstServerHandshake, OptionModeListsInformsAndGoes) {
  ServeConfig config = offering(OFFERS[0]);
  config.exports.push_back(test_export("other", 65536));
  auto cc = client_config("nosuch");
  cc.opt_mode = true;
  EnginePair p(config, cc);
  p.pump();
  ASSERT_EQ(p.client().phase(), Phase::Negotiating) << p.client().error()->message;

  struct Options : engine::OptionListener {
    void on_export(std::string_view name, std::string_view description) override {
      exports.emplace_back(std::string(name) + "=" + std::string(description));
    }
    void on_context(std::string_view name) override { contexts.emplace_back(name); }
    void on_option_complete(const Result<void>& result) override { results.push_back(result); }
    std::vector<std::string> exports;
    std::vector<std::string> contexts;
    std::vector<Result<void>> results;
  } listener;

  ASSERT_TRUE(p.client().start_option({engine::OptionKind::List, {}, &listener}));
  p.pump();
  EXPECT_EQ(listener.exports, (std::vector<std::string>{"disk=engine test disk", "other="}));

  ASSERT_TRUE(p.client().start_option({engine::OptionKind::Info, {}, &listener}));
  p.pump();
  ASSERT_EQ(listener.results.size(), 2u);
  ASSERT_FALSE(listener.results[1]);
  EXPECT_EQ(listener.results[1].error().errnum, ENOENT);

  p.client().config().export_name = "other";
  ASSERT_TRUE(p.client().start_option({engine::OptionKind::ListMetaContext, {"base:"}, &listener}));
  p.pump();
  EXPECT_EQ(listener.contexts, std::vector<std::string>{"base:allocation"});

  ASSERT_TRUE(p.client().start_option({engine::OptionKind::Go, {}, &listener}));
  p.pump();
  ASSERT_EQ(p.client().phase(), Phase::Ready) << p.client().error()->message;
  EXPECT_EQ(p.client().session().export_info.size, 65536u);
  EXPECT_EQ(p.client().session().meta_contexts.size(), 1u);
  expect_alive(p);
}

TEST(EngineAgainstServerHandshake, AbortEndsBothSidesCleanly) {
  auto cc = client_config();
  cc.opt_mode = true;
  EnginePair p(offering(OFFERS[0]), cc);
  p.pump();
  struct Done : engine::OptionListener {
    void on_option_complete(const Result<void>& result) override { ok = result.has_value(); }
    bool ok = false;
  } listener;
  ASSERT_TRUE(p.client().start_option({engine::OptionKind::Abort, {}, &listener}));
  p.pump();
  EXPECT_TRUE(listener.ok);
  EXPECT_EQ(p.client().phase(), Phase::Closed);
  EXPECT_TRUE(p.server().finished());
  EXPECT_FALSE(p.server().client_violation());
}

TEST(EngineAgainstServerTransmission, DisconnectEndsBothSidesCleanly) {
  EnginePair p(offering(OFFERS[0]), client_config());
  p.pump();
  ASSERT_TRUE(p.client().disconnect(false));
  p.pump();
  EXPECT_EQ(p.client().phase(), Phase::Closed);
  EXPECT_TRUE(p.server().finished());
  EXPECT_FALSE(p.server().client_violation());
  EXPECT_EQ(p.server().end_reason(), "the client sent NBD_CMD_DISC");
}

TEST(EngineAgainstServerTransmission, DisconnectWaitsForCommandsInFlight) {
  const auto config = offering(OFFERS[0]);
  EnginePair p(config, client_config());
  p.pump();
  OutcomeListener listener;
  const auto data = pattern(4096, 4);
  for (std::uint64_t i = 0; i < 8; ++i) {
    auto w = write_command(data, i * 4096);
    w.listener = &listener;
    ASSERT_TRUE(p.client().submit(w));
  }
  ASSERT_TRUE(p.client().disconnect(false));
  p.pump();
  ASSERT_EQ(listener.outcomes.size(), 8u);
  for (const auto& o : listener.outcomes) EXPECT_EQ(o.errnum, 0) << o.message;
  EXPECT_EQ(p.client().phase(), Phase::Closed);
  EXPECT_TRUE(p.server().finished());
  EXPECT_FALSE(p.server().client_violation());

  EnginePair q(config, client_config());
  q.server().start_with_greeting();  // already started: changes nothing
  q.pump();
  ByteVector back(8 * 4096);
  EXPECT_EQ(q.run(read_command(back, 0)).errnum, 0);
  EXPECT_EQ(ByteVector(back.begin() + 7 * 4096, back.end()), data);  // S-TX-040
}

TEST(EngineAgainstServerTransmission, ConnectionsShareOneExport) {
  const auto config = offering(OFFERS[0]);
  EnginePair a(config, client_config());
  EnginePair b(config, client_config());
  a.pump();
  b.pump();
  ASSERT_TRUE(a.client().session().export_info.has(NBD_FLAG_CAN_MULTI_CONN));
  const auto data = pattern(65536, 21);
  EXPECT_EQ(a.run(write_command(data, 1 << 20)).errnum, 0);
  EXPECT_EQ(a.run(command(NBD_CMD_FLUSH, 0, 0)).errnum, 0);
  ByteVector back(data.size());
  EXPECT_EQ(b.run(read_command(back, 1 << 20)).errnum, 0);
  EXPECT_EQ(back, data);
  OutcomeListener status;
  EXPECT_EQ(b.run(command(NBD_CMD_BLOCK_STATUS, 1 << 20, 65536), &status).errnum, 0);
  ASSERT_EQ(status.extents.size(), 1u);
  EXPECT_EQ(status.extents[0].status, 0u);
}

TEST(EngineAgainstServerTransmission, BlockSizeConstraintsAreAdvertisedAndHonoured) {
  auto config = offering(OFFERS[1]);
  auto& e = config.exports[0].config;
  e.minimum_block = 512;
  e.preferred_block = 8192;
  e.maximum_payload = 64 * 1024;
  EnginePair p(config, client_config());
  p.pump();
  ASSERT_EQ(p.client().phase(), Phase::Ready) << p.client().error()->message;
  const auto& sizes = p.client().session().export_info.block_sizes;
  ASSERT_TRUE(sizes);
  EXPECT_EQ(sizes->minimum, 512u);
  EXPECT_EQ(sizes->preferred, 8192u);
  EXPECT_EQ(sizes->maximum, 65536u);
  const auto data = pattern(64 * 1024, 5);
  for (std::uint64_t at = 0; at < 256 * 1024; at += data.size()) {
    EXPECT_EQ(p.run(write_command(data, at)).errnum, 0);
  }
  // Structured reads may exceed the maximum payload; the server splits them.
  ByteVector back(256 * 1024);
  EXPECT_EQ(p.run(read_command(back, 0)).errnum, 0);
  EXPECT_EQ(ByteVector(back.begin() + 64 * 1024, back.begin() + 128 * 1024), data);
  expect_alive(p);
}

TEST(EngineAgainstServerTransmission, LargeTransfersWithExtendedHeaders) {
  EnginePair p(offering(OFFERS[0], 64 << 20), client_config());
  p.pump();
  ASSERT_TRUE(p.client().session().extended_headers);
  const auto data = pattern(32 << 20, 9);
  EXPECT_EQ(p.run(write_command(data, 16 << 20)).errnum, 0);
  ByteVector back(data.size());
  EXPECT_EQ(p.run(read_command(back, 16 << 20)).errnum, 0);
  EXPECT_TRUE(back == data);
  OutcomeListener status;
  EXPECT_EQ(p.run(command(NBD_CMD_BLOCK_STATUS, 0, 64 << 20, NBD_CMD_FLAG_REQ_ONE), &status).errnum,
            0);
  ASSERT_EQ(status.extents.size(), 1u);
  EXPECT_EQ(status.extents[0].length, 16u << 20);
  expect_alive(p);
}

}  // namespace
}  // namespace nbdref::mock::test
