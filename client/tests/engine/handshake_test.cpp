// The handshake and option haggling, as byte exchanges (proto.md "Handshake").
#include <gtest/gtest.h>

#include "engine_test_fixture.hpp"
#include "support/hex.hpp"
#include "wire/option_request.hpp"

namespace nbdref::test {
namespace {

using namespace wire;
using engine::Phase;

class Handshake : public EngineTest {};
NBDREF_ENGINE_TEST_SUITE(Handshake);

TEST_P(Handshake, ExtendedHeadersThenGoWithBlockSizeRequest) {
  auto h = make();
  h.server_sends(newstyle_greeting());
  // C-HS-003, C-HS-012: fixed newstyle and no zeroes, both offered.
  EXPECT_EQ(h.client_flags(), NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
  auto eh = h.option();
  EXPECT_EQ(eh.option, NBD_OPT_EXTENDED_HEADERS);
  EXPECT_TRUE(eh.data.empty());  // X-C-010
  h.server_sends(ack(NBD_OPT_EXTENDED_HEADERS));

  // Structured replies are implied by extended headers: straight to GO.
  auto go = h.option();
  ASSERT_EQ(go.option, NBD_OPT_GO);
  auto req = decode_info_request(go.data);
  ASSERT_TRUE(req);
  EXPECT_EQ(req->export_name, "");
  // C-SZ-001: the client says it honours size constraints.
  EXPECT_EQ(req->info_types, std::vector<std::uint16_t>{NBD_INFO_BLOCK_SIZE});

  h.server_sends(info_export(NBD_OPT_GO, 1 << 20, RW_FLAGS) +
                 info_reply(NBD_OPT_GO, InfoBlockSize{512, 4096, 1 << 25}) + ack(NBD_OPT_GO));
  ASSERT_EQ(h.phase(), Phase::Ready) << h.error_message();
  EXPECT_TRUE(h.session().extended_headers);
  EXPECT_EQ(h.session().protocol, engine::Protocol::FixedNewstyle);
  EXPECT_EQ(h.session().export_info.size, 1u << 20);
  EXPECT_EQ(h.session().export_info.transmission_flags, RW_FLAGS);
  ASSERT_TRUE(h.session().export_info.block_sizes);
  EXPECT_EQ(h.session().export_info.block_sizes->minimum, 512u);
  EXPECT_TRUE(h.client_silent());
}

// X-C-014, C-SR-002: each refusal falls back to the older form.
TEST_P(Handshake, RefusedExtendedHeadersFallBackToStructuredReplies) {
  auto h = make();
  h.handshake_compact(4096, RW_FLAGS, true);
  EXPECT_FALSE(h.session().extended_headers);
  EXPECT_TRUE(h.session().structured_replies);
}

TEST_P(Handshake, RefusedStructuredRepliesLeaveSimpleReplies) {
  auto h = make();
  h.handshake_compact(4096, RW_FLAGS, false);
  EXPECT_FALSE(h.session().structured_replies);
}

TEST_P(Handshake, NothingRequestedGoesStraightToGo) {
  engine::ConnectionConfig c;
  c.request_extended_headers = false;
  c.request_structured_replies = false;
  c.request_block_size = false;
  c.export_name = "disk";
  auto h = make(c);
  h.server_sends(newstyle_greeting());
  h.client_flags();
  auto go = h.option();
  ASSERT_EQ(go.option, NBD_OPT_GO);
  EXPECT_EQ(go.data, hex("00000004 6469736b 0000"));  // name "disk", no info requests
}

TEST_P(Handshake, FullInfoAsksForNameAndDescription) {
  engine::ConnectionConfig c;
  c.full_info = true;
  c.request_extended_headers = false;
  c.request_structured_replies = false;
  auto h = make(c);
  h.server_sends(newstyle_greeting());
  h.client_flags();
  auto go = h.option();
  auto req = decode_info_request(go.data);
  ASSERT_TRUE(req);
  EXPECT_EQ(req->info_types,
            (std::vector<std::uint16_t>{NBD_INFO_BLOCK_SIZE, NBD_INFO_NAME, NBD_INFO_DESCRIPTION}));
  // C-OPT-015: replies in any order.
  h.server_sends(info_reply(NBD_OPT_GO, InfoDescription{"the disk"}) +
                 info_reply(NBD_OPT_GO, InfoName{"canonical"}) +
                 info_export(NBD_OPT_GO, 512, NBD_FLAG_HAS_FLAGS) + ack(NBD_OPT_GO));
  ASSERT_EQ(h.phase(), Phase::Ready);
  EXPECT_EQ(h.session().export_info.canonical_name, "canonical");
  EXPECT_EQ(h.session().export_info.description, "the disk");
}

// C-OPT-013: unknown information types are ignored.
TEST_P(Handshake, UnknownInfoTypeIsIgnored) {
  engine::ConnectionConfig c;
  c.request_extended_headers = false;
  c.request_structured_replies = false;
  auto h = make(c);
  h.server_sends(newstyle_greeting());
  h.client_flags();
  h.option();
  h.server_sends(info_reply(NBD_OPT_GO, InfoUnknown{77, as_bytes("xyz")}) +
                 info_export(NBD_OPT_GO, 512, NBD_FLAG_HAS_FLAGS) + ack(NBD_OPT_GO));
  EXPECT_EQ(h.phase(), Phase::Ready) << h.error_message();
}

// C-OPT-005: a server without GO is served with NBD_OPT_EXPORT_NAME.
TEST_P(Handshake, GoUnsupportedFallsBackToExportName) {
  engine::ConnectionConfig c;
  c.export_name = "e";
  auto h = make(c);
  h.server_sends(newstyle_greeting());
  h.client_flags();
  h.option();
  h.server_sends(option_reply(NBD_OPT_EXTENDED_HEADERS, NBD_REP_ERR_UNSUP));
  h.option();
  h.server_sends(option_reply(NBD_OPT_STRUCTURED_REPLY, NBD_REP_ERR_UNSUP));
  h.option();
  h.server_sends(option_reply(NBD_OPT_GO, NBD_REP_ERR_UNSUP));
  auto en = h.option();
  EXPECT_EQ(en.option, NBD_OPT_EXPORT_NAME);
  EXPECT_EQ(en.data, bytes_of("e"));
  // NO_ZEROES was agreed: 10 bytes, no padding (S-HS-015).
  h.server_sends(export_name_reply(8192, NBD_FLAG_HAS_FLAGS | NBD_FLAG_READ_ONLY, false));
  ASSERT_EQ(h.phase(), Phase::Ready) << h.error_message();
  EXPECT_EQ(h.session().export_info.size, 8192u);
  EXPECT_TRUE(h.session().export_info.has(NBD_FLAG_READ_ONLY));
}

TEST_P(Handshake, ExportNameReplyHasPaddingWithoutNoZeroes) {
  engine::ConnectionConfig c;
  c.handshake_flags = NBD_FLAG_FIXED_NEWSTYLE;  // never agree to NO_ZEROES
  c.request_extended_headers = false;
  c.request_structured_replies = false;
  auto h = make(c);
  h.server_sends(newstyle_greeting());
  EXPECT_EQ(h.client_flags(), NBD_FLAG_C_FIXED_NEWSTYLE);
  h.option();
  h.server_sends(option_reply(NBD_OPT_GO, NBD_REP_ERR_UNSUP));
  EXPECT_EQ(h.option().option, NBD_OPT_EXPORT_NAME);
  const auto reply = export_name_reply(4096, NBD_FLAG_HAS_FLAGS, true);
  h.server_sends(ByteVector(reply.begin(), reply.end() - 1));
  EXPECT_EQ(h.phase(), Phase::Handshaking);  // still waiting for the last zero byte
  h.server_sends(ByteVector{0});
  EXPECT_EQ(h.phase(), Phase::Ready);
}

// Plain (not fixed) newstyle knows only NBD_OPT_EXPORT_NAME.
TEST_P(Handshake, PlainNewstyleSendsOnlyExportName) {
  auto h = make();
  h.server_sends(newstyle_greeting(0));
  EXPECT_EQ(h.client_flags(), 0u);  // C-HS-012: no NO_ZEROES when not offered
  EXPECT_EQ(h.option().option, NBD_OPT_EXPORT_NAME);
  h.server_sends(export_name_reply(1024, NBD_FLAG_HAS_FLAGS, true));
  ASSERT_EQ(h.phase(), Phase::Ready);
  EXPECT_EQ(h.session().protocol, engine::Protocol::Newstyle);
}

// C-HS-002: unknown handshake flags are ignored; C-HS-013: we never set unknown bits.
TEST_P(Handshake, UnknownHandshakeFlagsAreIgnored) {
  auto h = make();
  h.server_sends(newstyle_greeting(0xfffd));
  EXPECT_EQ(h.client_flags(), NBD_FLAG_C_FIXED_NEWSTYLE);
  EXPECT_EQ(h.option().option, NBD_OPT_EXTENDED_HEADERS);
}

TEST_P(Handshake, HandshakeFlagsSettingLimitsClientFlags) {
  engine::ConnectionConfig c;
  c.handshake_flags = 0;
  auto h = make(c);
  h.server_sends(newstyle_greeting());
  EXPECT_EQ(h.client_flags(), 0u);
  EXPECT_EQ(h.option().option, NBD_OPT_EXPORT_NAME);
}

TEST_P(Handshake, OldstyleServerGoesStraightToTransmission) {
  auto h = make();
  h.server_sends(oldstyle_greeting(1 << 30, NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH));
  ASSERT_EQ(h.phase(), Phase::Ready) << h.error_message();
  EXPECT_EQ(h.session().protocol, engine::Protocol::Oldstyle);
  EXPECT_EQ(h.session().export_info.size, 1u << 30);
  EXPECT_TRUE(h.client_silent());
}

TEST_P(Handshake, MetaContextIsSetBeforeGo) {
  engine::ConnectionConfig c;
  c.export_name = "x";
  c.meta_contexts = {"base:allocation", "qemu:dirty-bitmap:b"};
  auto h = make(c);
  h.negotiate_extended_headers();
  auto set = h.option();
  ASSERT_EQ(set.option, NBD_OPT_SET_META_CONTEXT);
  auto req = decode_meta_context_request(set.data);
  ASSERT_TRUE(req);
  EXPECT_EQ(req->export_name, "x");
  ASSERT_EQ(req->queries.size(), 2u);
  EXPECT_EQ(req->queries[1], "qemu:dirty-bitmap:b");
  // Context ids are opaque; 0 is valid (C-BS-012).
  h.server_sends(meta_context(NBD_OPT_SET_META_CONTEXT, 0, "base:allocation") +
                 ack(NBD_OPT_SET_META_CONTEXT));
  h.answer_go(4096, NBD_FLAG_HAS_FLAGS);
  ASSERT_EQ(h.phase(), Phase::Ready);
  ASSERT_EQ(h.session().meta_contexts.size(), 1u);
  EXPECT_EQ(h.session().meta_contexts[0].name, "base:allocation");
  EXPECT_EQ(h.session().meta_contexts[0].id, 0u);
}

// S-BS-037 (proto.md "NBD_OPT_SET_META_CONTEXT"): the selected contexts come
// from the queries, so a context in a namespace no query named kills the
// connection, with the context and the queried namespaces in the message.
TEST_P(Handshake, SetMetaContextOutsideTheQueriedNamespacesKills) {
  engine::ConnectionConfig c;
  c.meta_contexts = {"base:allocation", "qemu:dirty-bitmap:b", "qemu:allocation-depth"};
  auto h = make(c);
  h.negotiate_extended_headers();
  ASSERT_EQ(h.option().option, NBD_OPT_SET_META_CONTEXT);
  h.server_sends(meta_context(NBD_OPT_SET_META_CONTEXT, 1, "base:allocation") +
                 meta_context(NBD_OPT_SET_META_CONTEXT, 2, "x-other:allocation"));
  EXPECT_EQ(h.phase(), Phase::Dead);
  EXPECT_EQ(h.error_errno(), EPROTO);
  const auto m = h.error_message();
  EXPECT_NE(m.find("'x-other:allocation'"), std::string::npos) << m;
  EXPECT_NE(m.find("'base:', 'qemu:'"), std::string::npos) << m;
  EXPECT_NE(m.find("[S-BS-037]"), std::string::npos) << m;
  EXPECT_TRUE(h.session().meta_contexts.empty());
}

// S-BS-038: what a query selects within its namespace is the namespace's
// business (a wildcard may select several contexts), so a context that is
// not one of the queries but shares a namespace with one is accepted.
TEST_P(Handshake, SetMetaContextInAQueriedNamespaceIsAccepted) {
  engine::ConnectionConfig c;
  c.meta_contexts = {"qemu:dirty-bitmap:*"};
  auto h = make(c);
  h.negotiate_extended_headers();
  ASSERT_EQ(h.option().option, NBD_OPT_SET_META_CONTEXT);
  h.server_sends(meta_context(NBD_OPT_SET_META_CONTEXT, 1, "qemu:dirty-bitmap:a") +
                 meta_context(NBD_OPT_SET_META_CONTEXT, 2, "qemu:allocation-depth") +
                 ack(NBD_OPT_SET_META_CONTEXT));
  h.answer_go(4096, NBD_FLAG_HAS_FLAGS);
  ASSERT_EQ(h.phase(), Phase::Ready) << h.error_message();
  ASSERT_EQ(h.session().meta_contexts.size(), 2u);
  EXPECT_EQ(h.session().meta_contexts[1].name, "qemu:allocation-depth");
}

// S-BS-033: a failed SET leaves no contexts, and GO goes ahead.
TEST_P(Handshake, RefusedMetaContextLeavesNone) {
  engine::ConnectionConfig c;
  c.meta_contexts = {"base:allocation"};
  auto h = make(c);
  h.negotiate_extended_headers();
  h.option();
  // C-BS-007: a context reply before the error is disregarded.
  h.server_sends(meta_context(NBD_OPT_SET_META_CONTEXT, 1, "base:allocation") +
                 option_reply(NBD_OPT_SET_META_CONTEXT, NBD_REP_ERR_TOO_BIG));
  h.answer_go(4096, NBD_FLAG_HAS_FLAGS);
  ASSERT_EQ(h.phase(), Phase::Ready);
  EXPECT_TRUE(h.session().meta_contexts.empty());
}

// C-BS-009, X-C-009: no SET_META_CONTEXT without structured replies or
// extended headers (handshake_compact refuses both and wants GO next).
TEST_P(Handshake, NoMetaContextWithoutStructuredReplies) {
  engine::ConnectionConfig c;
  c.meta_contexts = {"base:allocation"};
  auto h = make(c);
  h.handshake_compact(4096, NBD_FLAG_HAS_FLAGS, false);
  EXPECT_TRUE(h.session().meta_contexts.empty());
}

// C-HS-010: without option mode a refused GO ends with NBD_OPT_ABORT.
TEST_P(Handshake, RefusedGoAbortsAndFails) {
  engine::ConnectionConfig c;
  c.export_name = "missing";
  c.request_extended_headers = false;
  c.request_structured_replies = false;
  auto h = make(c);
  h.server_sends(newstyle_greeting());
  h.client_flags();
  h.option();
  h.server_sends(option_reply(NBD_OPT_GO, NBD_REP_ERR_UNKNOWN, as_bytes("no such export")));
  EXPECT_EQ(h.phase(), Phase::Dead);
  EXPECT_EQ(h.error_errno(), ENOENT);
  EXPECT_NE(h.error_message().find("'missing'"), std::string::npos) << h.error_message();
  EXPECT_NE(h.error_message().find("no such export"), std::string::npos);
  auto abort = h.option();
  EXPECT_EQ(abort.option, NBD_OPT_ABORT);
  EXPECT_TRUE(abort.data.empty());  // C-OPT-006
}

// C-HS-011: NBD_REP_ERR_SHUTDOWN gets NBD_OPT_ABORT and a disconnect.
TEST_P(Handshake, ShutdownReplyAborts) {
  auto h = make();
  h.server_sends(newstyle_greeting());
  h.client_flags();
  h.option();
  h.server_sends(option_reply(NBD_OPT_EXTENDED_HEADERS, NBD_REP_ERR_SHUTDOWN));
  EXPECT_EQ(h.phase(), Phase::Dead);
  EXPECT_EQ(h.error_errno(), ESHUTDOWN);
  EXPECT_EQ(h.option().option, NBD_OPT_ABORT);
}

// ---- peer violations: the connection dies with a message naming the violation ----

struct ViolationCase {
  const char* name;
  ByteVector server_bytes;  // after the greeting and client flags; EXTENDED_HEADERS is pending
  const char* clause;       // expected in the message
};

class HandshakeViolation : public ::testing::TestWithParam<ViolationCase> {};

TEST_P(HandshakeViolation, KillsTheConnectionAndCitesTheClause) {
  const auto& c = GetParam();
  EngineHarness h;
  h.server_sends(newstyle_greeting());
  h.client_flags();
  h.option();
  h.server_sends(c.server_bytes);
  EXPECT_EQ(h.phase(), Phase::Dead);
  EXPECT_EQ(h.error_errno(), EPROTO);
  EXPECT_NE(h.error_message().find(c.clause), std::string::npos) << h.error_message();
}

ByteVector with_magic(ByteVector reply, std::uint8_t last_magic_byte) {
  reply[7] = last_magic_byte;
  return reply;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, HandshakeViolation,
    ::testing::Values(
        ViolationCase{"WrongOptionReplyMagic", with_magic(ack(NBD_OPT_EXTENDED_HEADERS), 0xaa),
                      "S-OPT-020"},
        ViolationCase{"ReplyForAnotherOption", ack(NBD_OPT_STRUCTURED_REPLY), "S-OPT-020"},
        ViolationCase{"ServerReplyToExtendedHeaders",
                      option_reply(NBD_OPT_EXTENDED_HEADERS, NBD_REP_SERVER, hex("00000000")),
                      "S-OPT-020"},
        ViolationCase{"HugeOptionReply", hex("0003e889 045565a9 0000000b 80000001 7fffffff"),
                      "B-GEN-003"},
        ViolationCase{"ErrorMessageWithNul",
                      option_reply(NBD_OPT_EXTENDED_HEADERS, NBD_REP_ERR_UNSUP, hex("6100")),
                      "S-GEN-001"}),
    [](const auto& p) { return std::string(p.param.name); });

TEST_P(Handshake, WrongGreetingMagicKills) {
  auto h = make();
  auto greeting = newstyle_greeting();
  greeting[0] ^= 1;
  h.server_sends(greeting);
  EXPECT_EQ(h.phase(), Phase::Dead);
  EXPECT_NE(h.error_message().find("greeting magic"), std::string::npos) << h.error_message();
  EXPECT_TRUE(h.client_silent());
}

// S-OPT-014: GO succeeds only after NBD_INFO_EXPORT.
TEST_P(Handshake, GoAckWithoutExportInfoKills) {
  auto h = make();
  h.negotiate_extended_headers();
  h.option();
  h.server_sends(ack(NBD_OPT_GO));
  EXPECT_EQ(h.phase(), Phase::Dead);
  EXPECT_NE(h.error_message().find("S-OPT-014"), std::string::npos) << h.error_message();
}

TEST_P(Handshake, ShortExportInfoKills) {
  auto h = make();
  h.negotiate_extended_headers();
  h.option();
  h.server_sends(option_reply(NBD_OPT_GO, NBD_REP_INFO, hex("0000 00000000 00001000 00")));
  EXPECT_EQ(h.phase(), Phase::Dead);
  EXPECT_NE(h.error_message().find("S-OPT-023"), std::string::npos) << h.error_message();
}

struct FlagsCase {
  const char* name;
  std::uint16_t flags;
  const char* clause;
};

class TransmissionFlagsViolation : public ::testing::TestWithParam<FlagsCase> {};

TEST_P(TransmissionFlagsViolation, KillsTheConnection) {
  EngineHarness h;
  h.server_sends(newstyle_greeting());
  h.client_flags();
  h.option();
  h.server_sends(option_reply(NBD_OPT_EXTENDED_HEADERS, NBD_REP_ERR_UNSUP));
  h.option();
  h.server_sends(option_reply(NBD_OPT_STRUCTURED_REPLY, NBD_REP_ERR_UNSUP));
  h.answer_go(4096, GetParam().flags);
  EXPECT_EQ(h.phase(), Phase::Dead);
  EXPECT_NE(h.error_message().find(GetParam().clause), std::string::npos) << h.error_message();
}

INSTANTIATE_TEST_SUITE_P(
    Cases, TransmissionFlagsViolation,
    ::testing::Values(FlagsCase{"NoHasFlags", NBD_FLAG_SEND_FLUSH, "S-TX-015"},
                      FlagsCase{"DfWithoutStructuredReplies", NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_DF,
                                "S-TX-019"},
                      FlagsCase{"FastZeroWithoutWriteZeroes",
                                NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FAST_ZERO, "S-TX-023"},
                      FlagsCase{"BlockStatusPayloadWithoutExtendedHeaders",
                                NBD_FLAG_HAS_FLAGS | NBD_FLAG_BLOCK_STATUS_PAYLOAD, "X-S-010"}),
    [](const auto& p) { return std::string(p.param.name); });

// C-TX-014: unknown transmission flags are ignored.
TEST_P(Handshake, UnknownTransmissionFlagsAreIgnored) {
  auto h = make();
  h.handshake_compact(4096, NBD_FLAG_HAS_FLAGS | 0xe000);
  EXPECT_EQ(h.phase(), Phase::Ready);
}

TEST_P(Handshake, EofDuringGreetingKills) {
  auto h = make();
  auto greeting = newstyle_greeting();
  h.server_sends(ByteVector(greeting.begin(), greeting.begin() + 10));
  h.server_closes();
  EXPECT_EQ(h.phase(), Phase::Dead);
  EXPECT_EQ(h.error_errno(), ECONNRESET);
  EXPECT_NE(h.error_message().find("greeting"), std::string::npos) << h.error_message();
}

// S-HS-005: closing after NBD_OPT_EXPORT_NAME is how a server refuses the name.
TEST_P(Handshake, EofAfterExportNameReportsRefusal) {
  engine::ConnectionConfig c;
  c.export_name = "nope";
  auto h = make(c);
  h.server_sends(newstyle_greeting(0));
  h.client_flags();
  h.option();
  h.server_closes();
  EXPECT_EQ(h.phase(), Phase::Dead);
  EXPECT_NE(h.error_message().find("refused export 'nope'"), std::string::npos)
      << h.error_message();
}

// ... but closing after part of the reply is a truncated reply, not a
// refusal: the message says how much of it arrived.
TEST_P(Handshake, EofMidExportNameReplyReportsTruncation) {
  engine::ConnectionConfig c;
  c.export_name = "disk";
  auto h = make(c);
  h.server_sends(newstyle_greeting(0));
  h.client_flags();
  ASSERT_EQ(h.option().option, NBD_OPT_EXPORT_NAME);
  // No NO_ZEROES: the reply is 10 bytes and 124 of padding.
  const auto reply = export_name_reply(4096, NBD_FLAG_HAS_FLAGS, true);
  ASSERT_EQ(reply.size(), 134u);
  h.server_sends(ByteVector(reply.begin(), reply.begin() + 6));
  h.server_closes();
  EXPECT_EQ(h.phase(), Phase::Dead);
  EXPECT_EQ(h.error_errno(), ECONNRESET);
  const auto m = h.error_message();
  EXPECT_NE(m.find("truncated: 6 of the 134 bytes arrived"), std::string::npos) << m;
  EXPECT_EQ(m.find("refused"), std::string::npos) << m;
}

// C-GEN-002 (proto.md "Conventions"): strings should stay within 256 bytes.
// Export names and queries are the caller's, and legal up to 4096 bytes, so
// a longer one goes out whole -- with a warning in the debug log for each
// string past 256 bytes, and none for strings within it.
TEST_P(Handshake, UnportablyLongStringsGoOutWithAWarning) {
  engine::ConnectionConfig c;
  c.export_name = std::string(300, 'n');
  c.meta_contexts = {"base:allocation", "x-long:" + std::string(249, 'q'),
                     "x-long:" + std::string(250, 'q')};
  c.request_extended_headers = false;
  auto h = make(c);
  std::vector<std::string> warnings;
  h.conn().set_debug([&](const std::string& m) {
    if (m.find("C-GEN-002") != std::string::npos) warnings.push_back(m);
  });
  h.server_sends(newstyle_greeting());
  h.client_flags();
  EXPECT_EQ(h.option().option, NBD_OPT_STRUCTURED_REPLY);
  h.server_sends(ack(NBD_OPT_STRUCTURED_REPLY));
  auto set = h.option();
  ASSERT_EQ(set.option, NBD_OPT_SET_META_CONTEXT);
  auto req = decode_meta_context_request(set.data);
  ASSERT_TRUE(req);
  EXPECT_EQ(req->export_name, c.export_name);
  ASSERT_EQ(req->queries.size(), 3u);
  EXPECT_EQ(req->queries[1].size(), 256u);
  EXPECT_EQ(req->queries[2], c.meta_contexts[2]);
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[0].find("export name is 300 bytes"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[1].find("meta context query is 257 bytes"), std::string::npos) << warnings[1];
  h.server_sends(ack(NBD_OPT_SET_META_CONTEXT));
  auto go = h.option();
  ASSERT_EQ(go.option, NBD_OPT_GO);
  EXPECT_EQ(decode_info_request(go.data)->export_name, c.export_name);
  EXPECT_EQ(warnings.size(), 3u);  // the name again, with GO
  h.server_sends(info_export(NBD_OPT_GO, 4096, NBD_FLAG_HAS_FLAGS) + ack(NBD_OPT_GO));
  EXPECT_EQ(h.phase(), Phase::Ready) << h.error_message();
}

// C-GEN-003: no string over 4096 bytes leaves the client.
TEST_P(Handshake, OverlongExportNameIsRefusedLocally) {
  engine::ConnectionConfig c;
  c.export_name = std::string(4097, 'n');
  c.request_extended_headers = false;
  c.request_structured_replies = false;
  auto h = make(c);
  h.server_sends(newstyle_greeting());
  h.client_flags();
  EXPECT_EQ(h.phase(), Phase::Dead);
  EXPECT_EQ(h.error_errno(), EINVAL);
  // Only a polite NBD_OPT_ABORT went out, never the name.
  EXPECT_EQ(h.option().option, NBD_OPT_ABORT);
}

}  // namespace
}  // namespace nbdref::test
