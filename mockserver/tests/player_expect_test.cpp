// Expectations: what they match, what they capture, and the exact verdict
// when the client sends something else, too little, too much, or nothing.
#include <unistd.h>

#include <thread>

#include <gtest/gtest.h>

#include "player_test_support.hpp"

namespace nbdref::mock::test {
namespace {

using O = Verdict::Outcome;

Verdict verdict(std::string_view text, const ByteVector& client, PlayOptions options = {}) {
  return converse(parse(text), client, std::move(options)).verdict;
}

// Plays `text` against a client that sends `client` and then keeps the
// connection open without a word.
Verdict verdict_silent_client(std::string_view text, const ByteVector& client,
                              PlayOptions options = {}) {
  InProcessServer server(parse(text), std::move(options));
  RawClient raw(server);
  raw.send(client);
  return verdict_of(server);
}

// ---- expect option ----

TEST(PlayerExpect, OptionOfAnotherTypeIsAMismatchNamingIt) {
  const Verdict v = verdict(
      "greeting newstyle\n"
      "expect client-flags\n"
      "expect option GO\n",
      concat({client_flags(3), option(3)}));
  EXPECT_EQ(v.outcome, O::Mismatch);
  EXPECT_EQ(v.message, "line 3: expect option GO: the client sent NBD_OPT_LIST (3)");
  EXPECT_EQ(v.where.line, 3u);
  EXPECT_EQ(v.describe(), v.message);
}

TEST(PlayerExpect, OptionNameMatchesGoAndExportName) {
  EXPECT_TRUE(
      verdict("expect option GO name=\"disk\"\n", option(7, go_data("disk", {3}))).passed());
  EXPECT_TRUE(verdict("expect option INFO name=\"\"\n", option(6, go_data(""))).passed());
  EXPECT_TRUE(verdict("expect option EXPORT_NAME name=\"disk\"\n", option(1, Golden().text("disk")))
                  .passed());
  const Verdict v = verdict("expect option GO name=\"disk\"\n", option(7, go_data("other")));
  EXPECT_EQ(v.outcome, O::Mismatch);
  EXPECT_EQ(v.message, "line 1: expect option GO name=\"disk\": name was \"other\"");
}

TEST(PlayerExpect, OptionNameOfAnOptionWithoutOneIsAMismatch) {
  EXPECT_EQ(verdict("expect option * name=\"x\"\n", option(3)).message,
            "line 1: expect option * name=\"x\": the client sent NBD_OPT_LIST (3), which carries "
            "no export name");
  // A name length running past the data.
  EXPECT_EQ(verdict("expect option GO name=\"x\"\n", option(7, Golden().u32(99).u16(0))).message,
            "line 1: expect option GO name=\"x\": the NBD_OPT_GO (7) data holds no export name");
}

TEST(PlayerExpect, OptionLengthAndData) {
  EXPECT_TRUE(verdict("expect option 99 length=2 data=hex:0102\n", option(99, {1, 2})).passed());
  const Verdict data = verdict("expect option 99 data=hex:0102\n", option(99, {1, 3}));
  EXPECT_EQ(data.outcome, O::Mismatch);
  EXPECT_EQ(data.message,
            "line 1: expect option 99 data=hex:0102: data differs at byte 1: 0x3 where 0x2 was "
            "expected");
  const Verdict length = verdict("expect option 99 length=3\n", option(99, {1, 2}));
  EXPECT_EQ(length.message, "line 1: expect option 99 length=3: length was 2");
  EXPECT_EQ(verdict("expect option 99 data=hex:01\n", option(99, {1, 2})).message,
            "line 1: expect option 99 data=hex:01: data was 2 bytes, not 1");
}

TEST(PlayerExpect, OptionMagicMustBeIhaveoptUnlessTheStepSaysOtherwise) {
  const ByteVector bad = Golden().u64(0x1234).u32(7).u32(0);
  EXPECT_EQ(verdict("expect option GO\n", bad).message,
            "line 1: expect option GO: magic was 0x1234, not IHAVEOPT 0x49484156454f5054");
  EXPECT_TRUE(verdict("expect option GO magic=*\n", bad).passed());
  EXPECT_TRUE(verdict("expect option GO magic=0x1234\n", bad).passed());
  EXPECT_EQ(verdict("expect option GO magic=0x1\n", bad).message,
            "line 1: expect option GO magic=0x1: magic was 0x1234");
}

TEST(PlayerExpect, OptionDataBeyond64MiBIsAMismatchNotAnAllocation) {
  const Verdict v =
      verdict("expect option GO\n", Golden().u64(IHAVEOPT).u32(7).u32((64u << 20) + 1));
  EXPECT_EQ(v.outcome, O::Mismatch);
  EXPECT_EQ(v.message,
            "line 1: expect option GO: the client announced 67108865 bytes of NBD_OPT_GO (7) data, "
            "more than the player reads (64 MiB)");
}

TEST(PlayerExpect, OptionSubjectCapturesAndWildcards) {
  EXPECT_TRUE(
      verdict("expect option *\nexpect option $o\nreply $o ack\n", concat({option(3), option(10)}))
          .passed());
}

// ---- expect client-flags ----

TEST(PlayerExpect, ClientFlagsMismatchNamesTheFlags) {
  EXPECT_TRUE(
      verdict("expect client-flags flags=FIXED_NEWSTYLE|NO_ZEROES\n", client_flags(3)).passed());
  const Verdict v = verdict("expect client-flags flags=FIXED_NEWSTYLE\n", client_flags(3));
  EXPECT_EQ(v.outcome, O::Mismatch);
  EXPECT_EQ(v.message,
            "line 1: expect client-flags flags=FIXED_NEWSTYLE: flags was "
            "NBD_FLAG_C_FIXED_NEWSTYLE|NBD_FLAG_C_NO_ZEROES");
}

// ---- expect request ----

TEST(PlayerExpect, RequestFieldMismatchSaysWhatTheClientSent) {
  const Verdict v = verdict("expect request READ offset=0\n", compact_request(0, 0, 1, 4096, 512));
  EXPECT_EQ(v.outcome, O::Mismatch);
  EXPECT_EQ(v.message, "line 1: expect request READ offset=0: offset was 4096");
  EXPECT_EQ(verdict("expect request READ\n", compact_request(0, 1, 1, 0, 0)).message,
            "line 1: expect request READ: the client sent NBD_CMD_WRITE (1)");
  EXPECT_EQ(verdict("expect request READ cookie=0x10\n", compact_request(0, 0, 0x11, 0, 1)).message,
            "line 1: expect request READ cookie=0x10: cookie was 0x11");
  EXPECT_EQ(verdict("expect request READ length=1\n", compact_request(0, 0, 1, 0, 2)).message,
            "line 1: expect request READ length=1: length was 2");
  EXPECT_EQ(verdict("expect request WRITE flags=FUA\n",
                    concat({compact_request(5, 1, 1, 0, 1), ByteVector{0}}))
                .message,
            "line 1: expect request WRITE flags=FUA: flags was NBD_CMD_FLAG_FUA|NBD_CMD_FLAG_DF");
}

TEST(PlayerExpect, RequestWritePayloadIsReadAndMatched) {
  const ByteVector write = concat({compact_request(0, 1, 1, 0, 2), ByteVector{1, 2}});
  EXPECT_TRUE(verdict("expect request WRITE data=hex:0102\nexpect request FLUSH\n",
                      concat({write, compact_request(0, 3, 2, 0, 0)}))
                  .passed());
  EXPECT_EQ(verdict("expect request WRITE data=zeros:4\n", write).message,
            "line 1: expect request WRITE data=zeros:4: data was 2 bytes, not 4");
}

TEST(PlayerExpect, RequestsAreExtendedOnceNegotiatedWithPayloadOnlyWithPayloadLen) {
  EXPECT_TRUE(verdict("reply EXTENDED_HEADERS ack\n"
                      "expect request WRITE length=2 data=hex:0102\n"
                      "expect request BLOCK_STATUS length=0x100000000 data=\"\"\n",
                      concat({extended_request(0x20, 1, 1, 0, 2), ByteVector{1, 2},
                              extended_request(0, 7, 2, 0, 0x100000000ULL)}))
                  .passed());
}

TEST(PlayerExpect, RequestFormOverridesNegotiation) {
  EXPECT_TRUE(verdict("reply EXTENDED_HEADERS ack\nexpect request READ form=compact\n",
                      compact_request(0, 0, 1, 0, 1))
                  .passed());
  EXPECT_TRUE(
      verdict("expect request READ form=extended\n", extended_request(0, 0, 1, 0, 1)).passed());
  const Verdict v =
      verdict("reply EXTENDED_HEADERS ack\nexpect request READ\n", compact_request(0, 0, 1, 0, 1));
  EXPECT_EQ(v.outcome, O::Mismatch);
  EXPECT_EQ(v.message,
            "line 2: expect request READ: magic was 0x25609513 (a compact request), not an "
            "extended request 0x21e41c71");
}

TEST(PlayerExpect, RequestMagicCanBeNamed) {
  EXPECT_TRUE(
      verdict("expect request READ magic=0x25609513\n", compact_request(0, 0, 1, 0, 1)).passed());
  EXPECT_EQ(verdict("expect request READ magic=0x1\n", compact_request(0, 0, 1, 0, 1)).message,
            "line 1: expect request READ magic=0x1: magic was 0x25609513");
}

TEST(PlayerExpect, RequestPayloadBeyond64MiBIsAMismatch) {
  const Verdict v = verdict("expect request WRITE\n", compact_request(0, 1, 1, 0, (64u << 20) + 1));
  EXPECT_EQ(v.outcome, O::Mismatch);
  EXPECT_EQ(v.message,
            "line 1: expect request WRITE: the client announced a payload of 67108865 bytes, more "
            "than the player reads (64 MiB)");
}

TEST(PlayerExpect, RequestWildcardsAcceptAnything) {
  EXPECT_TRUE(verdict("expect request * cookie=* offset=* length=* flags=* magic=*\n",
                      compact_request(3, 9, 1, 2, 3))
                  .passed());
}

TEST(PlayerExpect, RepeatedCapturesBindAnewEachRound) {
  const Exchange e =
      converse(parse("repeat 2 {\n"
                     "  expect request READ cookie=$c\n"
                     "  simple-reply cookie=$c\n"
                     "}\n"),
               concat({compact_request(0, 0, 1, 0, 0), compact_request(0, 0, 2, 0, 0)}));
  EXPECT_TRUE(e.verdict.passed()) << e.verdict.describe();
  EXPECT_EQ(e.sent, concat({Golden().u32(0x67446698).u32(0).u64(1),
                            Golden().u32(0x67446698).u32(0).u64(2)}));
}

// ---- variables ----

TEST(PlayerExpect, UsingAnUnboundVariableIsAScriptErrorNamingIt) {
  const Verdict v = verdict("greeting newstyle\nsimple-reply cookie=$c\n", {});
  EXPECT_EQ(v.outcome, O::ScriptError);
  EXPECT_EQ(v.message, "line 2: simple-reply: cookie=$c is used before an expectation captured it");
  EXPECT_EQ(v.where.line, 2u);
  EXPECT_EQ(verdict("reply $o ack\n", {}).message,
            "line 1: reply $o ack: $o is used before an expectation captured it");
}

TEST(PlayerExpect, ACapturedNameIsNotANumber) {
  using script::Value;
  script::Script s = parse("expect option GO name=$n\n");
  script::Step reply;
  reply.kind = script::StepKind::SimpleReply;
  reply.args = {{"cookie", Value::variable("n"), {}}};
  s.steps.push_back(reply);
  const Verdict v = converse(s, option(7, go_data("d"))).verdict;
  EXPECT_EQ(v.outcome, O::ScriptError);
  EXPECT_EQ(v.message, "simple-reply: cookie=$n holds text, not a number");
}

// ---- timeouts and a vanishing client ----

TEST(PlayerExpect, TimeoutSaysHowLongNothingCame) {
  const Verdict v =
      verdict_silent_client("greeting newstyle\nexpect client-flags timeout=100ms\n", {});
  EXPECT_EQ(v.outcome, O::Timeout);
  EXPECT_EQ(v.message, "line 2: expect client-flags: nothing from the client for 100ms");
  PlayOptions quick;
  quick.default_timeout = std::chrono::milliseconds(50);
  EXPECT_EQ(verdict_silent_client("expect option GO\n", {}, quick).message,
            "line 1: expect option GO: nothing from the client for 50ms");
}

TEST(PlayerExpect, TimeoutPartWaySaysHowMuchCame) {
  EXPECT_EQ(verdict_silent_client("expect option GO timeout=100ms\n", {1, 2, 3, 4, 5}).message,
            "line 1: expect option GO: the client sent 5 of the 16 bytes of an option header, "
            "then nothing for 100ms");
  EXPECT_EQ(verdict_silent_client("expect request WRITE timeout=100ms\n",
                                  concat({compact_request(0, 1, 1, 0, 8), ByteVector{1, 2, 3}}))
                .message,
            "line 1: expect request WRITE: the client sent 3 of the 8 bytes of the NBD_CMD_WRITE "
            "(1) payload, then nothing for 100ms");
  EXPECT_EQ(verdict_silent_client("expect option GO timeout=100ms\n",
                                  Golden().u64(IHAVEOPT).u32(7).u32(4))
                .message,
            "line 1: expect option GO: nothing more from the client for 100ms (waiting for the "
            "NBD_OPT_GO (7) data)");
}

TEST(PlayerExpect, EndOfStreamDuringAnExpectationIsClientGone) {
  const Verdict v = verdict("greeting newstyle\nexpect client-flags\n", {});
  EXPECT_EQ(v.outcome, O::ClientGone);
  EXPECT_EQ(v.message, "line 2: expect client-flags: the client closed the connection");
  EXPECT_EQ(verdict("expect client-flags\n", {0, 0}).message,
            "line 1: expect client-flags: the client closed the connection after 2 of the 4 bytes "
            "of the client flags");
  EXPECT_EQ(verdict("expect option GO\n", Golden().u64(IHAVEOPT).u32(7).u32(4)).message,
            "line 1: expect option GO: the client closed the connection before the NBD_OPT_GO (7) "
            "data");
}

// ---- expect eof ----

TEST(PlayerExpect, EofSucceedsWhenTheClientCloses) {
  const Exchange e = converse(parse("expect eof\n"), {});
  EXPECT_TRUE(e.verdict.passed());
  EXPECT_EQ(e.transcript, "-- the client closed the connection\n");
}

TEST(PlayerExpect, EofGettingBytesIsAMismatchCountingThem) {
  const Verdict v = verdict("expect eof\n", compact_request(0, 2, 1, 0, 0));
  EXPECT_EQ(v.outcome, O::Mismatch);
  EXPECT_EQ(v.message,
            "line 1: expect eof: the client sent 28 bytes instead of closing the connection "
            "(starting with a NBD_CMD_DISC (2) request)");
  EXPECT_EQ(verdict("expect eof\n", {9}).message,
            "line 1: expect eof: the client sent 1 byte instead of closing the connection");
}

TEST(PlayerExpect, EofTimesOutWhileTheClientKeepsTheConnection) {
  const Verdict v = verdict_silent_client("expect eof timeout=100ms\n", {});
  EXPECT_EQ(v.outcome, O::Timeout);
  EXPECT_EQ(v.message, "line 1: expect eof: the client kept the connection open for 100ms");
}

TEST(PlayerExpect, EofAcceptsAConnectionReset) {
  // A Unix socket closed with unread data resets its peer.
  InProcessServer server(parse("raw zeros:16\nexpect eof\n"));
  const int fd = server.release_client_fd();
  std::this_thread::sleep_for(50ms);  // the 16 bytes arrive, unread
  ::close(fd);
  const Verdict v = verdict_of(server);
  EXPECT_TRUE(v.passed()) << v.describe();
  EXPECT_NE(server.transcript().text().find("-- the client reset the connection"),
            std::string::npos)
      << server.transcript().text();
}

}  // namespace
}  // namespace nbdref::mock::test
