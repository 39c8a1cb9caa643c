// Faults of the RAM-disk server (`serve fault=NAME`, script/serve_fault.hpp):
// the table is well formed and reaches the script language, and a sample of
// faults from every phase break their one rule and nothing else. Every
// fault is also run end to end by conformance/tests/broken_servers, where
// the conformance suite must catch it.
#include <gtest/gtest.h>

#include <set>

#include "script/parser.hpp"
#include "script/serve_fault.hpp"
#include "script/vocabulary.hpp"
#include "session_test_fixture.hpp"
#include "wire/constants.hpp"
#include "wire/handshake.hpp"
#include "wire/limits.hpp"
#include "wire/option_reply.hpp"

namespace nbdref::mock::test {
namespace {

using namespace wire;
using script::ServeFault;

ServeConfig with_fault(ServeFault fault) {
  auto config = default_config();
  config.fault = fault;
  return config;
}

TEST(ServeFaults, EachHasAUniqueNameAClauseAndADescription) {
  std::set<std::string_view> names;
  std::set<ServeFault> faults;
  for (const auto& f : script::serve_faults()) {
    EXPECT_TRUE(names.insert(f.name).second) << f.name;
    EXPECT_TRUE(faults.insert(f.fault).second) << f.name;
    EXPECT_NE(f.fault, ServeFault::None);
    EXPECT_TRUE(f.clause.starts_with("S-") || f.clause.starts_with("X-S-")) << f.name;
    EXPECT_FALSE(f.breaks.empty()) << f.name;
    EXPECT_EQ(script::serve_fault_named(f.name), f.fault);
  }
  EXPECT_EQ(script::serve_fault_named("none"), ServeFault::None);
  EXPECT_FALSE(script::serve_fault_named("no-such-fault"));
}

TEST(ServeFaults, EveryNameIsAWordOfTheServeStep) {
  const auto* key = script::find_key(script::form_of(script::StepKind::Serve), "fault");
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(key->value.words, script::serve_fault_names());
  auto parsed = script::parse_script("serve fault=read-only-einval {\n}\n");
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_FALSE(script::parse_script("serve fault=no-such-fault {\n}\n"));
}

TEST(ServeFaults, ConfigsTheyNeedAreChecked) {
  auto config = with_fault(ServeFault::OldstyleHandshakeFlags);
  EXPECT_TRUE(config_problem(config));
  config.oldstyle = true;
  EXPECT_FALSE(config_problem(config));
  config = with_fault(ServeFault::AcceptUnofferedNoZeroes);
  EXPECT_TRUE(config_problem(config));
  config.no_zeroes = false;
  EXPECT_FALSE(config_problem(config));
}

class Faults : public SessionTest {};
NBDREF_SESSION_TEST_SUITE(Faults);

// S-HS-016 broken: a reserved handshake flag in the greeting.
TEST_P(Faults, ReservedHandshakeFlagIsSet) {
  SessionDriver d = make(with_fault(ServeFault::ReservedHandshakeFlag));
  d.session().start_with_greeting();
  const auto greeting = d.take(NEWSTYLE_GREETING_SIZE);
  const std::uint16_t flags = load_be16(greeting.data() + 16);
  EXPECT_EQ(flags, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES | (1u << 5));
}

// S-HS-004 broken: unknown client flags do not end the session.
TEST_P(Faults, UnknownClientFlagsAreAccepted) {
  SessionDriver d = make(with_fault(ServeFault::AcceptUnknownClientFlags));
  d.open(NBD_FLAG_C_FIXED_NEWSTYLE | (1u << 31));
  EXPECT_FALSE(d.session().finished());
  d.expect_ack(NBD_OPT_STRUCTURED_REPLY);
}

// S-INT-004 broken: an unknown option is invalid rather than unsupported.
TEST_P(Faults, UnknownOptionIsInvalid) {
  SessionDriver d = make(with_fault(ServeFault::UnknownOptionInvalid));
  d.open();
  d.send_option(0x12345, ByteVector(8, 1));
  EXPECT_EQ(d.option_replies().back().type, NBD_REP_ERR_INVALID);
  d.expect_ack(NBD_OPT_STRUCTURED_REPLY);
}

// S-OPT-017 broken: NBD_OPT_INFO reports size 0, NBD_OPT_GO the real size.
TEST_P(Faults, InfoReportsSizeZero) {
  SessionDriver d = make(with_fault(ServeFault::InfoSizeZero));
  d.open();
  for (auto [option, size] :
       {std::pair{NBD_OPT_INFO, std::uint64_t{0}}, std::pair{NBD_OPT_GO, std::uint64_t{1} << 20}}) {
    d.send_option(option, info_request("disk"));
    const auto replies = d.option_replies();
    ASSERT_EQ(replies.size(), 2u);
    auto info = decode_info_reply(replies[0].payload);
    ASSERT_TRUE(info);
    EXPECT_EQ(std::get<InfoExport>(*info).export_size, size);
  }
}

// S-OPT-009 broken: an unknown information request makes INFO fail.
TEST_P(Faults, UnknownInformationRequestIsInvalid) {
  SessionDriver d = make(with_fault(ServeFault::UnknownInfoRequestInvalid));
  d.open();
  d.send_option(NBD_OPT_INFO, info_request("disk", {NBD_INFO_NAME}));
  EXPECT_EQ(d.option_replies().back().type, NBD_REP_ACK);
  d.send_option(NBD_OPT_INFO, info_request("disk", {0x7777}));
  const auto replies = d.option_replies();
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].type, NBD_REP_ERR_INVALID);
}

// S-BS-032 broken: listed contexts carry their id.
TEST_P(Faults, ListedContextsCarryTheirId) {
  SessionDriver d = make(with_fault(ServeFault::ListedContextNonzeroId));
  d.open();
  d.expect_ack(NBD_OPT_STRUCTURED_REPLY);
  d.send_option(NBD_OPT_LIST_META_CONTEXT, meta_request("disk", {}));
  const auto replies = d.option_replies();
  ASSERT_EQ(replies.size(), 2u);
  auto context = decode_meta_context_reply(replies[0].payload);
  ASSERT_TRUE(context);
  EXPECT_NE(context->context_id, 0u);
  EXPECT_EQ(context->name, "base:allocation");
}

// S-TX-037 broken: writes succeed and change nothing; reads still work.
TEST_P(Faults, WritesAreDropped) {
  SessionDriver d = make(with_fault(ServeFault::WritesDropped));
  d.connect(ReplyStyle::Simple);
  d.send_request(request(NBD_CMD_WRITE, 0, 512), pattern(512, 3));
  EXPECT_EQ(d.reply().error_value(), 0u);
  d.send_request(request(NBD_CMD_READ, 0, 512));
  EXPECT_EQ(d.reply(512).data, ByteVector(512, 0));
}

// S-SR-052 broken: a DF read comes in two data chunks.
TEST_P(Faults, DfReadIsFragmented) {
  SessionDriver d = make(with_fault(ServeFault::DfFragmented));
  d.connect(ReplyStyle::Structured);
  d.send_request(request(NBD_CMD_READ, 0, 8192, NBD_CMD_FLAG_DF));
  const Reply r = d.reply();
  ASSERT_EQ(r.chunks.size(), 2u);
  for (const Chunk& c : r.chunks) EXPECT_EQ(c.header.type, NBD_REPLY_TYPE_OFFSET_DATA);
}

// S-BS-040 broken: REQ_ONE still gets every extent.
TEST_P(Faults, ReqOneIsIgnored) {
  SessionDriver d = make(with_fault(ServeFault::ReqOneIgnored));
  d.connect(ReplyStyle::Structured, true);
  d.send_request(request(NBD_CMD_WRITE, 0, 4096), pattern(4096, 5));
  EXPECT_EQ(d.reply().error_value(), 0u);
  d.send_request(request(NBD_CMD_BLOCK_STATUS, 0, 1 << 20, NBD_CMD_FLAG_REQ_ONE));
  const Reply r = d.reply();
  ASSERT_EQ(r.chunks.size(), 1u);
  // A context id, then two descriptors of 8 bytes: data, then the hole.
  EXPECT_EQ(r.chunks[0].payload.size(), 4u + 2 * 8);
}

// S-ERR-008 broken: writes to a read-only export fail with EINVAL.
TEST_P(Faults, ReadOnlyRefusalsAreInvalid) {
  auto config = with_fault(ServeFault::ReadOnlyEinval);
  config.exports.front().config.read_only = true;
  SessionDriver d = make(config);
  d.connect(ReplyStyle::Simple);
  d.send_request(request(NBD_CMD_WRITE, 0, 512), pattern(512, 4));
  EXPECT_EQ(d.reply().error_value(), NBD_EINVAL);
}

// S-TX-041 broken: NBD_CMD_DISC gets a reply, then the session ends.
TEST_P(Faults, DiscIsAnswered) {
  SessionDriver d = make(with_fault(ServeFault::DiscAnswered));
  d.connect(ReplyStyle::Simple);
  d.send_request(request(NBD_CMD_DISC, 0, 0));
  const Reply r = d.reply();
  EXPECT_TRUE(r.simple);
  EXPECT_EQ(r.error, 0u);
  EXPECT_TRUE(d.session().finished());
}

}  // namespace
}  // namespace nbdref::mock::test
