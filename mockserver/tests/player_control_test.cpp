// Control steps (close, half-close, pause, fragments, repeat), the channel,
// the transcript, the export store, and an InProcessServer that never hangs.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <thread>

#include <gtest/gtest.h>

#include "player_test_support.hpp"
#include "server/export_store.hpp"
#include "server/transcript.hpp"

namespace nbdref::mock::test {
namespace {

using O = Verdict::Outcome;
using Ms = std::chrono::milliseconds;

Ms since(Clock::time_point start) {
  return std::chrono::duration_cast<Ms>(Clock::now() - start);
}

std::vector<std::size_t> write_sizes(const RecordingChannel& c) {
  std::vector<std::size_t> out;
  for (const auto& w : c.writes) out.push_back(w.bytes.size());
  return out;
}

ByteVector greeting() {
  return Golden().u64(NBDMAGIC).u64(IHAVEOPT).u16(3);
}

// ---- close and half-close ----

TEST(PlayerControl, CloseEndsTheConnectionAndThePlay) {
  RecordingChannel channel;
  const Verdict v = play(parse("greeting newstyle\nclose\nraw hex:00\n"), channel);
  EXPECT_TRUE(v.passed()) << v.describe();
  EXPECT_TRUE(channel.closed);
  EXPECT_EQ(channel.all_written(), greeting());  // the raw step after close never ran

  InProcessServer server(parse("greeting newstyle\nclose\npause 60s\n"));
  RawClient client(server);
  EXPECT_EQ(client.read(18), greeting());
  EXPECT_TRUE(client.sees_eof(2s));
  EXPECT_TRUE(verdict_of(server).passed());
}

TEST(PlayerControl, HalfCloseSendsEndOfStreamButKeepsReading) {
  InProcessServer server(parse("greeting newstyle\nhalf-close\nexpect client-flags flags=3\n"));
  RawClient client(server);
  EXPECT_EQ(client.read(18), greeting());
  EXPECT_TRUE(client.sees_eof(2s));
  client.send(client_flags(3));
  const Verdict v = verdict_of(server);
  EXPECT_TRUE(v.passed()) << v.describe();
}

TEST(PlayerControl, SendingAfterHalfCloseIsAScriptError) {
  RecordingChannel channel;
  const Verdict v = play(parse("half-close\nraw hex:00\n"), channel);
  EXPECT_TRUE(channel.shut_write);
  EXPECT_EQ(v.outcome, O::ScriptError);
  EXPECT_EQ(v.message, "line 2: raw hex:00: cannot send after the half-close on line 1");
}

// ---- pause ----

TEST(PlayerControl, PauseWaitsBeforeTheNextStep) {
  RecordingChannel channel;
  EXPECT_TRUE(play(parse("raw hex:01\npause 100ms\nraw hex:02\n"), channel).passed());
  ASSERT_EQ(channel.writes.size(), 2u);
  EXPECT_GE(channel.writes[1].when - channel.writes[0].when, 100ms);
}

// ---- fragments ----

TEST(PlayerControl, FragmentsCutWhatTheBlockSendsIntoPiecesAcrossMessages) {
  RecordingChannel channel;
  EXPECT_TRUE(
      play(parse("fragments 7 gap=0 {\n  greeting newstyle\n  raw hex:0102\n}\nraw hex:03\n"),
           channel)
          .passed());
  // 20 bytes: two whole pieces, the rest at the block's end, then unfragmented.
  EXPECT_EQ(write_sizes(channel), (std::vector<std::size_t>{7, 7, 6, 1}));
  EXPECT_EQ(channel.all_written(), concat({greeting(), ByteVector{1, 2, 3}}));
}

TEST(PlayerControl, FragmentsFlushBeforeAnExpectationReads) {
  RecordingChannel channel(client_flags(3));
  EXPECT_TRUE(play(parse("fragments 4 gap=0 {\n"
                         "  greeting newstyle\n"
                         "  expect client-flags\n"
                         "  raw hex:01\n"
                         "}\n"),
                   channel)
                  .passed());
  EXPECT_EQ(write_sizes(channel), (std::vector<std::size_t>{4, 4, 4, 4, 2, 1}));
  // The read came after all 18 bytes of the greeting were out.
  ASSERT_FALSE(channel.reads_after_writes.empty());
  EXPECT_EQ(channel.reads_after_writes.front(), 5u);
}

TEST(PlayerControl, FragmentsWaitTheGapBetweenPieces) {
  RecordingChannel channel;
  EXPECT_TRUE(
      play(parse("fragments 2 gap=20ms {\n  raw hex:0102030405060708\n}\n"), channel).passed());
  ASSERT_EQ(write_sizes(channel), (std::vector<std::size_t>{2, 2, 2, 2}));
  EXPECT_GE(channel.writes[3].when - channel.writes[0].when, 60ms);
}

TEST(PlayerControl, NestedFragmentsUseTheInnermostSize) {
  RecordingChannel channel;
  EXPECT_TRUE(play(parse("fragments 4 gap=0 {\n"
                         "  raw hex:0102030405\n"
                         "  fragments 2 gap=0 {\n"
                         "    raw hex:060708\n"
                         "  }\n"
                         "  raw hex:090a\n"
                         "}\n"),
                   channel)
                  .passed());
  EXPECT_EQ(write_sizes(channel), (std::vector<std::size_t>{4, 1, 2, 1, 2}));
  EXPECT_EQ(channel.all_written(), (ByteVector{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
}

TEST(PlayerControl, FragmentsReachTheClientAsSeparatePieces) {
  InProcessServer server(parse("fragments 6 gap=150ms {\n  greeting newstyle\n}\n"));
  RawClient client(server);
  const ByteVector whole = greeting();
  const ByteVector first = client.read_once();
  EXPECT_EQ(first, ByteVector(whole.begin(), whole.begin() + 6));
  const ByteVector rest = client.read(12);
  EXPECT_EQ(concat({first, rest}), whole);
  EXPECT_TRUE(verdict_of(server).passed());
}

TEST(PlayerControl, FragmentsOfZeroBytesAreAScriptError) {
  RecordingChannel channel;
  const Verdict v = play(parse("fragments 0 {\n  raw hex:00\n}\n"), channel);
  EXPECT_EQ(v.outcome, O::ScriptError);
  EXPECT_EQ(v.message, "line 1: fragments 0: pieces need at least 1 byte");
}

// ---- repeat ----

TEST(PlayerControl, RepeatRunsItsBlockNTimes) {
  RecordingChannel channel;
  EXPECT_TRUE(play(parse("repeat 3 {\n  raw hex:01\n  repeat 2 {\n    raw hex:02\n  }\n}\n"
                         "repeat 0 {\n  raw hex:03\n}\n"),
                   channel)
                  .passed());
  EXPECT_EQ(channel.all_written(), (ByteVector{1, 2, 2, 1, 2, 2, 1, 2, 2}));
}

TEST(PlayerControl, AnExportOutsideServeIsAScriptError) {
  script::Script s;
  s.steps.push_back(script::Step{});
  s.steps.back().kind = script::StepKind::Export;
  RecordingChannel channel;
  const Verdict v = play(s, channel);
  EXPECT_EQ(v.outcome, O::ScriptError);
  EXPECT_EQ(v.message, "export: export steps belong in a serve block");
}

TEST(PlayerControl, WritingToAVanishedClientIsClientGone) {
  RecordingChannel channel;
  channel.closed = true;
  const Verdict v = play(parse("greeting newstyle\n"), channel);
  EXPECT_EQ(v.outcome, O::ClientGone);
  EXPECT_EQ(v.message, "line 1: greeting newstyle: the client is gone: sending failed (closed)");
}

TEST(PlayerControl, AnEmptyScriptCompletesWithoutClosing) {
  RecordingChannel channel;
  const Verdict v = play({}, channel);
  EXPECT_TRUE(v.passed());
  EXPECT_EQ(v.describe(), "completed");
  EXPECT_FALSE(channel.closed);
}

// ---- InProcessServer ----

TEST(InProcessServer, DestructorReturnsPromptlyWhileWaitingForASilentClient) {
  const auto start = Clock::now();
  {
    InProcessServer server(parse("greeting newstyle\nexpect client-flags timeout=60s\n"));
    RawClient(server).read(18);
    EXPECT_FALSE(server.wait(20ms).has_value());
  }
  EXPECT_LT(since(start), 2s);
}

TEST(InProcessServer, DestructorReturnsPromptlyDuringPausesAndGaps) {
  const auto start = Clock::now();
  {
    InProcessServer server(parse("pause 60s\n"));
    std::this_thread::sleep_for(20ms);
  }
  {
    InProcessServer server(parse("fragments 1 gap=60s {\n  raw hex:0102\n}\n"));
    RawClient(server).read(1);
  }
  EXPECT_LT(since(start), 2s);
}

TEST(InProcessServer, DestructorReturnsPromptlyWhileServingAnIdleClient) {
  const auto start = Clock::now();
  {
    InProcessServer server(parse("serve\n"));
    RawClient(server).read(18);
  }
  EXPECT_LT(since(start), 2s);
}

TEST(InProcessServer, DestructorReturnsPromptlyWhenTheClientNeverReads) {
  const auto start = Clock::now();
  {
    InProcessServer server(parse("raw zeros:16M\n"));
    std::this_thread::sleep_for(50ms);  // the socket buffer is full by now
    EXPECT_FALSE(server.wait(1ms).has_value());
  }
  EXPECT_LT(since(start), 2s);
}

TEST(InProcessServer, WaitGivesTheVerdictAgainAndTheClientSeesTheEnd) {
  InProcessServer server(parse("raw hex:01\n"));
  RawClient client(server);
  EXPECT_EQ(client.read(1), ByteVector{1});
  EXPECT_TRUE(client.sees_eof(2s));  // the server's end is shut once the play is over
  EXPECT_TRUE(verdict_of(server).passed());
  EXPECT_TRUE(verdict_of(server).passed());
}

TEST(InProcessServer, ReleasedClientEndOutlivesTheServer) {
  int fd = -1;
  {
    InProcessServer server(parse("raw hex:2a\n"));
    fd = server.release_client_fd();
    EXPECT_EQ(server.client_fd(), -1);
    EXPECT_TRUE(verdict_of(server).passed());
  }
  ASSERT_NE(::fcntl(fd, F_GETFD), -1);
  EXPECT_EQ(RawClient(fd).read(1), ByteVector{0x2a});
  ::close(fd);
}

// ---- channel ----

TEST(FdChannel, ReadTimesOutAtTheDeadlineAndSeesEndOfStream) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  FdChannel channel(fds[0]);
  std::uint8_t buf[4];
  const auto start = Clock::now();
  EXPECT_EQ(channel.read_some(buf, Clock::now() + 50ms).status, ReadResult::Status::Timeout);
  EXPECT_GE(since(start), 50ms);
  ASSERT_EQ(::write(fds[1], "ab", 2), 2);
  const ReadResult r = channel.read_some(buf, Clock::now() + 1s);
  EXPECT_EQ(r.status, ReadResult::Status::Data);
  EXPECT_EQ(r.count, 2u);
  ::close(fds[1]);
  EXPECT_EQ(channel.read_some(buf, Clock::time_point::max()).status, ReadResult::Status::Eof);
}

TEST(FdChannel, WritingToAClosedSocketOrPipeFailsWithoutSigpipe) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  ::close(fds[1]);
  FdChannel socket_channel(fds[0]);
  std::string error;
  const std::uint8_t byte = 1;
  EXPECT_FALSE(socket_channel.write_all({&byte, 1}, error));
  EXPECT_FALSE(error.empty());

  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  ::close(p[0]);
  FdChannel pipe_channel(-1, p[1], true);
  error.clear();
  EXPECT_FALSE(pipe_channel.write_all({&byte, 1}, error));  // EPIPE, and the process lives on
  EXPECT_FALSE(error.empty());
  sigset_t pending;
  sigpending(&pending);
  EXPECT_FALSE(sigismember(&pending, SIGPIPE));
}

TEST(FdChannel, ShutdownWriteOnAPipePairClosesOnlyTheWriteEnd) {
  int to_server[2];
  int to_client[2];
  ASSERT_EQ(::pipe2(to_server, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(to_client, O_CLOEXEC), 0);
  FdChannel channel(to_server[0], to_client[1], false);
  channel.shutdown_write();
  std::uint8_t buf[1];
  EXPECT_EQ(::read(to_client[0], buf, 1), 0);     // end of stream
  EXPECT_NE(::fcntl(to_client[1], F_GETFD), -1);  // not owned: the number stays valid
  ASSERT_EQ(::write(to_server[1], "x", 1), 1);
  EXPECT_EQ(channel.read_some(buf, Clock::now() + 1s).count, 1u);
  channel.close();
  for (int fd : {to_server[0], to_server[1], to_client[0], to_client[1]}) ::close(fd);
}

TEST(FdChannel, CloseOfASocketNotOwnedShutsItDownButLeavesTheDescriptor) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  {
    FdChannel channel(fds[0], fds[0], false);
    channel.close();
  }
  std::uint8_t buf[1];
  EXPECT_EQ(::read(fds[1], buf, 1), 0);
  EXPECT_NE(::fcntl(fds[0], F_GETFD), -1);
  ::close(fds[0]);
  ::close(fds[1]);
}

// ---- transcript and export store ----

TEST(Transcript, TextListsEntriesAndDumpsTheBytesKept) {
  Transcript t;
  t.server_sent("greeting", ByteVector{0x4e, 0x42});
  t.client_sent("flags", ByteVector(300, 0xff));
  t.note("a note");
  EXPECT_EQ(t.text(), "S: greeting\nC: flags\n-- a note\n");
  const auto entries = t.entries();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[1].bytes.size(), Transcript::BYTES_KEPT);
  EXPECT_EQ(entries[1].byte_count, 300u);
  const std::string dump = t.text(true);
  EXPECT_NE(dump.find("S: greeting\n   0000  4e 42\n"), std::string::npos) << dump;
  EXPECT_NE(dump.find("   00f0  ff ff"), std::string::npos) << dump;
  EXPECT_NE(dump.find("   ... 44 more bytes\n-- a note\n"), std::string::npos) << dump;
}

TEST(ExportStore, KeepsOneDiskPerNameWithItsContents) {
  ExportStore store;
  ExportConfig c;
  c.name = "d";
  c.size = 4096;
  const ByteVector init{'a', 'b'};
  auto first = store.get(c, init);
  first.disk->write(0, ByteVector{'x'});
  c.read_only = true;
  auto second = store.get(c, init);  // the initial data is not written again
  EXPECT_EQ(second.disk, first.disk);
  EXPECT_TRUE(second.config.read_only);
  ByteVector out(2);
  second.disk->read(0, out);
  EXPECT_EQ(out, (ByteVector{'x', 'b'}));
  c.name = "e";
  EXPECT_NE(store.get(c).disk, first.disk);
  EXPECT_EQ(store.size(), 2u);
}

}  // namespace
}  // namespace nbdref::mock::test
