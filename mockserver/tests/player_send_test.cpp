// Every sending step, with its defaults and every field it can override:
// the bytes on the client's end against golden bytes laid out by hand from
// proto.md and proto-extended-headers.md.
#include <gtest/gtest.h>

#include "player_test_support.hpp"

namespace nbdref::mock::test {
namespace {

constexpr std::uint32_t STRUCTURED_MAGIC = 0x668e33ef;
constexpr std::uint32_t EXTENDED_MAGIC = 0x6e8a278c;
constexpr std::uint32_t SIMPLE_MAGIC = 0x67446698;
constexpr std::uint64_t OLDSTYLE_MAGIC = 0x00420281861253ULL;
constexpr std::uint64_t MiB = 1 << 20;

// The 20-byte option reply header (proto.md "Option reply").
Golden reply_header(std::uint32_t opt, std::uint32_t type, std::uint32_t length) {
  Golden g;
  g.u64(REPLY_MAGIC).u32(opt).u32(type).u32(length);
  return g;
}

// The 20-byte structured reply chunk header.
Golden structured(std::uint16_t flags, std::uint16_t type, std::uint64_t cookie,
                  std::uint32_t length) {
  Golden g;
  g.u32(STRUCTURED_MAGIC).u16(flags).u16(type).u64(cookie).u32(length);
  return g;
}

// The 32-bit extended reply chunk header.
Golden extended(std::uint16_t flags, std::uint16_t type, std::uint64_t cookie, std::uint64_t offset,
                std::uint64_t length) {
  Golden g;
  g.u32(EXTENDED_MAGIC).u16(flags).u16(type).u64(cookie).u64(offset).u64(length);
  return g;
}

// What the server sends for `text` when the client sends `client`.
ByteVector sent(std::string_view text, const ByteVector& client = {}) {
  const Exchange e = converse(parse(text), client);
  EXPECT_TRUE(e.verdict.passed()) << e.verdict.describe();
  return e.sent;
}

ByteVector newstyle_greeting() {
  return Golden().u64(NBDMAGIC).u64(IHAVEOPT).u16(3);
}

// ---- handshake ----

TEST(PlayerSend, GreetingNewstyleDefaultsToFixedNewstyleAndNoZeroes) {
  EXPECT_EQ(sent("greeting newstyle\n"), newstyle_greeting());
}

TEST(PlayerSend, GreetingNewstyleOverridesFlagsAndBothMagics) {
  EXPECT_EQ(sent("greeting newstyle flags=FIXED_NEWSTYLE magic=0x1122334455667788 "
                 "opt-magic=0x99\n"),
            (ByteVector)Golden().u64(0x1122334455667788).u64(0x99).u16(1));
}

TEST(PlayerSend, GreetingOldstyleDefaults) {
  EXPECT_EQ(sent("greeting oldstyle\n"),
            (ByteVector)Golden().u64(NBDMAGIC).u64(OLDSTYLE_MAGIC).u64(64 * MiB).u32(1).zeros(124));
}

TEST(PlayerSend, GreetingOldstyleOverridesEveryField) {
  EXPECT_EQ(sent("greeting oldstyle size=1M flags=HAS_FLAGS|READ_ONLY magic=1 cliserv-magic=2 "
                 "padding=0\n"),
            (ByteVector)Golden().u64(1).u64(2).u64(MiB).u32(3));
}

TEST(PlayerSend, ExportNameReplyPadsUnlessTheClientSentNoZeroes) {
  const char* script =
      "greeting newstyle\n"
      "expect client-flags\n"
      "expect option EXPORT_NAME name=\"disk\"\n"
      "export-name-reply size=1M flags=HAS_FLAGS|SEND_FLUSH\n";
  const ByteVector ask = option(1, Golden().text("disk"));
  const ByteVector reply = Golden().u64(MiB).u16(5);
  // S-HS-015: no padding after C_NO_ZEROES.
  EXPECT_EQ(sent(script, concat({client_flags(3), ask})), concat({newstyle_greeting(), reply}));
  EXPECT_EQ(sent(script, concat({client_flags(1), ask})),
            concat({newstyle_greeting(), reply, ByteVector(124, 0)}));
}

TEST(PlayerSend, ExportNameReplyPaddingAndDefaults) {
  EXPECT_EQ(sent("export-name-reply padding=3\n"),
            (ByteVector)Golden().u64(64 * MiB).u16(1).zeros(3));
}

// ---- option replies ----

TEST(PlayerSend, ReplyAck) {
  EXPECT_EQ(sent("reply GO ack\n"), (ByteVector)reply_header(7, 1, 0));
}

TEST(PlayerSend, ReplyServerWithNameDetailsAndNameLengthOverride) {
  EXPECT_EQ(sent("reply LIST server name=\"disk\" details=\"a disk\"\n"),
            (ByteVector)reply_header(3, 2, 14).u32(4).text("disk").text("a disk"));
  EXPECT_EQ(sent("reply LIST server name=\"disk\" name-length=99\n"),
            (ByteVector)reply_header(3, 2, 8).u32(99).text("disk"));
}

TEST(PlayerSend, ReplyInfoExport) {
  EXPECT_EQ(sent("reply GO info export size=1M flags=HAS_FLAGS|SEND_FLUSH\n"),
            (ByteVector)reply_header(7, 3, 12).u16(0).u64(MiB).u16(5));
  EXPECT_EQ(sent("reply INFO info export\n"),
            (ByteVector)reply_header(6, 3, 12).u16(0).u64(64 * MiB).u16(1));
  EXPECT_EQ(sent("reply GO info export size=1 info-type=NAME\n"),
            (ByteVector)reply_header(7, 3, 12).u16(1).u64(1).u16(1));
}

TEST(PlayerSend, ReplyInfoNameDefaultsToTheNameTheClientAskedFor) {
  EXPECT_EQ(sent("expect option GO\nreply GO info name\n", option(7, go_data("disk"))),
            (ByteVector)reply_header(7, 3, 6).u16(1).text("disk"));
  EXPECT_EQ(sent("reply GO info name name=\"other\"\n"),
            (ByteVector)reply_header(7, 3, 7).u16(1).text("other"));
}

TEST(PlayerSend, ReplyInfoDescriptionBlockSizeAndRaw) {
  EXPECT_EQ(sent("reply GO info description text=\"hello\"\n"),
            (ByteVector)reply_header(7, 3, 7).u16(2).text("hello"));
  // S-SZ-003: the protocol's defaults.
  EXPECT_EQ(sent("reply GO info block-size\n"),
            (ByteVector)reply_header(7, 3, 14).u16(3).u32(1).u32(4096).u32(32 * MiB));
  EXPECT_EQ(sent("reply GO info block-size minimum=512 preferred=8192 maximum=1M\n"),
            (ByteVector)reply_header(7, 3, 14).u16(3).u32(512).u32(8192).u32(MiB));
  EXPECT_EQ(sent("reply GO info raw info-type=9 data=hex:0102\n"),
            (ByteVector)reply_header(7, 3, 4).u16(9).u8(1).u8(2));
}

TEST(PlayerSend, ReplyMetaContextIdDefaultsToZeroForListAndOneForSet) {
  EXPECT_EQ(sent("reply LIST_META_CONTEXT meta-context\n"),
            (ByteVector)reply_header(9, 4, 19).u32(0).text("base:allocation"));
  EXPECT_EQ(sent("reply SET_META_CONTEXT meta-context\n"),
            (ByteVector)reply_header(10, 4, 19).u32(1).text("base:allocation"));
  EXPECT_EQ(sent("reply SET_META_CONTEXT meta-context id=5 name=\"x:y\"\n"),
            (ByteVector)reply_header(10, 4, 7).u32(5).text("x:y"));
}

TEST(PlayerSend, ReplyErrorWithMessage) {
  EXPECT_EQ(sent("reply STARTTLS error UNSUP message=\"no\"\n"),
            (ByteVector)reply_header(5, 0x80000001, 2).text("no"));
  EXPECT_EQ(sent("reply GO error 0x8000000a\n"), (ByteVector)reply_header(7, 0x8000000a, 0));
}

TEST(PlayerSend, OptionReplyOverridesMagicTypeAndLength) {
  EXPECT_EQ(sent("reply GO error POLICY magic=0x1 type=ACK length=99\n"),
            (ByteVector)Golden().u64(1).u32(7).u32(1).u32(99));
}

TEST(PlayerSend, ReplyRaw) {
  EXPECT_EQ(sent("reply GO raw type=INFO data=hex:00\n"), (ByteVector)reply_header(7, 3, 1).u8(0));
  EXPECT_EQ(sent("reply 99 raw\n"), (ByteVector)reply_header(99, 1, 0));
}

// ---- transmission ----

TEST(PlayerSend, SimpleReplyTakesTheLastRequestsCookie) {
  // S-TX-002: the cookie echoes the request's.
  EXPECT_EQ(
      sent("expect request READ\nsimple-reply data=hex:0102\n", compact_request(0, 0, 0xabc, 0, 2)),
      (ByteVector)Golden().u32(SIMPLE_MAGIC).u32(0).u64(0xabc).u8(1).u8(2));
}

TEST(PlayerSend, SimpleReplyOverridesCookieErrorAndMagic) {
  EXPECT_EQ(sent("simple-reply cookie=5 error=EIO magic=0x1\n"),
            (ByteVector)Golden().u32(1).u32(5).u64(5));
}

TEST(PlayerSend, ChunkDataAndNoneDefaultToTheRequest) {
  EXPECT_EQ(
      sent("expect request READ\nchunk data\nchunk none\n", compact_request(0, 0, 0x77, 4096, 8)),
      concat({structured(0, 1, 0x77, 16).u64(4096).zeros(8),
              // S-SR-015: NONE carries DONE.
              structured(1, 0, 0x77, 0)}));
}

TEST(PlayerSend, ChunkDataOffsetAndData) {
  EXPECT_EQ(sent("chunk data offset=8 data=hex:01 cookie=3\n"),
            (ByteVector)structured(0, 1, 3, 9).u64(8).u8(1));
}

TEST(PlayerSend, ChunksUseTheExtendedHeaderOnceNegotiated) {
  const ByteVector out = sent(
      "reply EXTENDED_HEADERS ack\n"
      "expect request READ\n"
      "chunk data data=hex:aabb flags=DONE\n",
      extended_request(0, 0, 0x77, 4096, 2));
  // X-S-006: the header's offset is the request's.
  EXPECT_EQ(out, concat({reply_header(11, 1, 0),
                         extended(1, 1, 0x77, 4096, 10).u64(4096).u8(0xaa).u8(0xbb)}));
}

TEST(PlayerSend, ChunkFormAndHeaderOffsetOverrides) {
  EXPECT_EQ(sent("chunk none form=extended header-offset=7 cookie=1\n"),
            (ByteVector)extended(1, 0, 1, 7, 0));
  EXPECT_EQ(sent("reply EXTENDED_HEADERS ack\nchunk none form=structured cookie=1\n"),
            concat({reply_header(11, 1, 0), structured(1, 0, 1, 0)}));
}

TEST(PlayerSend, ChunkHoleDefaultsToTheRequestedRange) {
  EXPECT_EQ(
      sent("expect request READ\nchunk hole\nchunk hole offset=1 size=2 flags=DONE\n",
           compact_request(0, 0, 3, 512, 1024)),
      concat({structured(0, 2, 3, 12).u64(512).u32(1024), structured(1, 2, 3, 12).u64(1).u32(2)}));
}

TEST(PlayerSend, ChunkBlockStatusUsesTheGrantedContextId) {
  EXPECT_EQ(sent("reply SET_META_CONTEXT meta-context id=3\n"
                 "expect request BLOCK_STATUS\n"
                 "chunk block-status extents=4096:0,512:3 flags=DONE\n"
                 "chunk block-status\n",
                 compact_request(0, 7, 4, 0, 8192)),
            concat({reply_header(10, 4, 19).u32(3).text("base:allocation"),
                    structured(1, 5, 4, 20).u32(3).u32(4096).u32(0).u32(512).u32(3),
                    structured(0, 5, 4, 12).u32(3).u32(8192).u32(0)}));
}

TEST(PlayerSend, ChunkBlockStatusExtWithCountOverride) {
  EXPECT_EQ(sent("chunk block-status-ext id=1 extents=8192:1 form=structured\n"),
            (ByteVector)structured(0, 6, 0, 24).u32(1).u32(1).u64(8192).u64(1));
  EXPECT_EQ(sent("chunk block-status-ext id=1 extents=8192:1 count=5 form=structured\n"),
            (ByteVector)structured(0, 6, 0, 24).u32(1).u32(5).u64(8192).u64(1));
}

TEST(PlayerSend, ChunkErrorDefaultsToEioAndOverridesTheMessageLength) {
  // S-SR-028: a nonzero error.
  EXPECT_EQ(sent("chunk error message=\"bad\" cookie=9\n"),
            (ByteVector)structured(0, 0x8001, 9, 9).u32(5).u16(3).text("bad"));
  EXPECT_EQ(sent("chunk error message=\"bad\" message-length=100 flags=DONE\n"),
            (ByteVector)structured(1, 0x8001, 0, 9).u32(5).u16(100).text("bad"));
}

TEST(PlayerSend, ChunkErrorOffset) {
  EXPECT_EQ(sent("chunk error-offset error=EINVAL message=\"x\" offset=100\n"),
            (ByteVector)structured(0, 0x8002, 0, 15).u32(22).u16(1).text("x").u64(100));
  EXPECT_EQ(sent("expect request WRITE\nchunk error-offset\n",
                 concat({compact_request(0, 1, 6, 4096, 1), ByteVector{0}})),
            (ByteVector)structured(0, 0x8002, 6, 14).u32(5).u16(0).u64(4096));
}

TEST(PlayerSend, ChunkRawAndHeaderOverrides) {
  EXPECT_EQ(sent("chunk raw type=OFFSET_DATA payload=hex:0102 length=99 magic=0x1 cookie=2\n"),
            (ByteVector)Golden().u32(1).u16(0).u16(1).u64(2).u32(99).u8(1).u8(2));
  // The extended header's length field is 64 bits wide.
  EXPECT_EQ(sent("chunk raw form=extended length=0x100000000 cookie=2\n"),
            (ByteVector)extended(0, 0, 2, 0, 0x100000000ULL));
  EXPECT_EQ(sent("chunk none type=OFFSET_HOLE flags=0\n"), (ByteVector)structured(0, 2, 0, 0));
}

TEST(PlayerSend, Raw) {
  EXPECT_EQ(sent("raw hex:0001ff\nraw \"AB\"\nraw zeros:2\n"),
            (ByteVector{0x00, 0x01, 0xff, 'A', 'B', 0, 0}));
}

TEST(PlayerSend, CapturedValuesAreUsedInSendingSteps) {
  EXPECT_EQ(sent("expect option $o\n"
                 "reply $o ack\n"
                 "expect request * cookie=$c offset=$off\n"
                 "chunk hole cookie=$c offset=$off size=$off flags=DONE\n",
                 concat({option(8), compact_request(0, 0, 0x55, 16, 512)})),
            concat({reply_header(8, 1, 0), structured(1, 2, 0x55, 12).u64(16).u32(16)}));
}

TEST(PlayerSend, CapturedTextAndBytesAreUsedByBuiltSteps) {
  // The text form lets sending steps use numbers only; built steps may
  // use captured text and bytes too.
  using script::Value;
  script::Script s = parse("expect option GO name=$n\nexpect request WRITE data=$d\n");
  script::Step info;
  info.kind = script::StepKind::ReplyInfoName;
  info.subjects = {Value::of_number(7)};
  info.args = {{"name", Value::variable("n"), {}}};
  script::Step reply;
  reply.kind = script::StepKind::SimpleReply;
  reply.args = {{"data", Value::variable("d"), {}}};
  s.steps.push_back(info);
  s.steps.push_back(reply);
  const Exchange e = converse(
      s, concat({option(7, go_data("disk")), compact_request(0, 1, 1, 0, 2), ByteVector{7, 8}}));
  EXPECT_TRUE(e.verdict.passed()) << e.verdict.describe();
  EXPECT_EQ(e.sent, concat({reply_header(7, 3, 6).u16(1).text("disk"),
                            Golden().u32(SIMPLE_MAGIC).u32(0).u64(1).u8(7).u8(8)}));
}

TEST(PlayerSend, ValuesTooWideForTheirFieldAreScriptErrors) {
  const Exchange e = converse(parse("greeting newstyle flags=0x10000\n"), {});
  EXPECT_EQ(e.verdict.outcome, Verdict::Outcome::ScriptError);
  EXPECT_EQ(e.verdict.message,
            "line 1: greeting newstyle: flags=65536 does not fit the 16-bit field");
  EXPECT_TRUE(e.sent.empty());
}

TEST(PlayerSend, HeaderOffsetWithAStructuredChunkIsAScriptError) {
  const Exchange e = converse(parse("chunk none form=structured header-offset=1\n"), {});
  EXPECT_EQ(e.verdict.outcome, Verdict::Outcome::ScriptError);
  EXPECT_EQ(e.verdict.message,
            "line 1: chunk none header-offset=1: only the extended header has an offset field");
}

TEST(PlayerSend, TranscriptDescribesEachMessageInProtocolTerms) {
  const Exchange e = converse(
      parse("greeting newstyle\n"
            "expect client-flags\n"
            "expect option GO\n"
            "reply GO info export size=1M flags=HAS_FLAGS|SEND_FLUSH\n"
            "reply GO ack\n"
            "expect request READ\n"
            "chunk data data=hex:00 flags=DONE magic=0x1\n"
            "close\n"
            "raw hex:00\n"),
      concat({client_flags(3), option(7, go_data("disk")), compact_request(0, 0, 0x10, 0, 1)}));
  EXPECT_TRUE(e.verdict.passed()) << e.verdict.describe();
  EXPECT_EQ(e.transcript,
            "S: newstyle greeting, handshake flags NBD_FLAG_FIXED_NEWSTYLE|NBD_FLAG_NO_ZEROES\n"
            "C: client flags NBD_FLAG_C_FIXED_NEWSTYLE|NBD_FLAG_C_NO_ZEROES\n"
            "C: NBD_OPT_GO (7), 10 bytes of data, export \"disk\"\n"
            "S: NBD_REP_INFO for NBD_OPT_GO: NBD_INFO_EXPORT size 1048576 flags "
            "NBD_FLAG_HAS_FLAGS|NBD_FLAG_SEND_FLUSH\n"
            "S: NBD_REP_ACK for NBD_OPT_GO\n"
            "C: NBD_CMD_READ (0), cookie 0x10, offset 0, length 1, flags 0\n"
            "S: NBD_REPLY_TYPE_OFFSET_DATA chunk (structured), cookie 0x10, flags "
            "NBD_REPLY_FLAG_DONE: offset 0, 1 byte [overridden: magic 0x1]\n"
            "-- close: the server closed the connection\n"
            "-- the steps after line 8: close are not run\n");
}

}  // namespace
}  // namespace nbdref::mock::test
