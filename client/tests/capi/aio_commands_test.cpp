// Asynchronous commands (nbd_aio_pread(3) ... nbd_aio_disconnect(3)) and how
// they are retired: nbd_aio_command_completed(3),
// nbd_aio_peek_command_completed(3), nbd_aio_in_flight(3).
#include <algorithm>
#include <map>
#include <set>

#include "capi_fixture.hpp"

namespace nbdref::test {
namespace {

// nbdkit failing every read with ENOSPC (nbdkit-error-filter(1)).
const NbdkitCommand kFailingReads{
    {"--filter=error"}, "memory", {"1M", "error-pread=ENOSPC", "error-pread-rate=100%"}};

TEST(AioCommands, PwriteThenPreadRoundTripWithCompletionCallbacks) {
  CompletionRecorder wrote, read;
  auto h = connected_handle();
  const auto out = pattern(128 * 1024, 5);
  std::vector<char> in(out.size());
  const int64_t w = nbd_aio_pwrite(h.get(), out.data(), out.size(), 65536, wrote.callback(), 0);
  ASSERT_GE(w, 1) << last_error();
  ASSERT_EQ(wait_for_command(h.get(), w), 1) << last_error();
  EXPECT_EQ(wrote.calls, 1);
  EXPECT_EQ(wrote.seen_error, 0);
  const int64_t r = nbd_aio_pread(h.get(), in.data(), in.size(), 65536, read.callback(), 0);
  ASSERT_GE(r, 1) << last_error();
  ASSERT_EQ(wait_for_command(h.get(), r), 1) << last_error();
  EXPECT_EQ(read.calls, 1);
  EXPECT_EQ(read.seen_error, 0);
  EXPECT_EQ(in, out);
  EXPECT_EQ(wrote.frees, 1);
  EXPECT_EQ(read.frees, 1);
}

// A caller issuing one command at a time has each sent within the call (no
// poll round for it alone); a command behind another one waits to leave
// with the next batch.
TEST(AioCommands, OneAtATimeCommandsLeaveAtOnceOthersWaitForThePollLoop) {
  auto h = connected_handle();
  std::vector<char> a(4096), b(4096);
  const int64_t warm = nbd_aio_pread(h.get(), a.data(), a.size(), 0, NBD_NULL_COMPLETION, 0);
  ASSERT_GE(warm, 1) << last_error();
  ASSERT_EQ(wait_for_command(h.get(), warm), 1) << last_error();
  const int64_t first = nbd_aio_pread(h.get(), a.data(), a.size(), 0, NBD_NULL_COMPLETION, 0);
  ASSERT_GE(first, 1) << last_error();
  EXPECT_EQ(nbd_aio_get_direction(h.get()), LIBNBD_AIO_DIRECTION_READ);
  const int64_t second = nbd_aio_pread(h.get(), b.data(), b.size(), 4096, NBD_NULL_COMPLETION, 0);
  ASSERT_GE(second, 1) << last_error();
  EXPECT_EQ(nbd_aio_get_direction(h.get()), LIBNBD_AIO_DIRECTION_BOTH);
  EXPECT_EQ(wait_for_command(h.get(), first), 1) << last_error();
  EXPECT_EQ(wait_for_command(h.get(), second), 1) << last_error();
}

TEST(AioCommands, PwriteWithFuaIsDurableOnCompletion) {
  auto h = connected_handle();
  ASSERT_EQ(nbd_can_fua(h.get()), 1);
  const auto out = pattern(4096, 8);
  const int64_t w =
      nbd_aio_pwrite(h.get(), out.data(), out.size(), 0, NBD_NULL_COMPLETION, LIBNBD_CMD_FLAG_FUA);
  ASSERT_GE(w, 1) << last_error();
  EXPECT_EQ(wait_for_command(h.get(), w), 1) << last_error();
}

struct Chunk {
  uint64_t offset;
  size_t count;
  unsigned status;
  std::vector<char> data;
};

struct ChunkLog {
  std::vector<Chunk> chunks;
  int frees = 0;
  static int on_chunk(void* user_data, const void* subbuf, size_t count, uint64_t offset,
                      unsigned status, int*) {
    auto* log = static_cast<ChunkLog*>(user_data);
    const auto* p = static_cast<const char*>(subbuf);
    log->chunks.push_back({offset, count, status, std::vector<char>(p, p + count)});
    return 0;
  }
  static void on_free(void* user_data) { ++static_cast<ChunkLog*>(user_data)->frees; }
};

TEST(AioCommands, PreadStructuredChunksCoverTheReadExactly) {
  ChunkLog log;
  CompletionRecorder done;
  auto h = connected_handle();
  ASSERT_EQ(nbd_get_structured_replies_negotiated(h.get()), 1);
  const uint64_t offset = 8192;
  const auto out = pattern(200 * 1024, 2);
  ASSERT_EQ(nbd_pwrite(h.get(), out.data(), out.size(), offset, 0), 0) << last_error();
  std::vector<char> in(out.size() + 65536);  // past what was written: never written (zeroes)
  const int64_t c =
      nbd_aio_pread_structured(h.get(), in.data(), in.size(), offset,
                               {ChunkLog::on_chunk, &log, ChunkLog::on_free}, done.callback(), 0);
  ASSERT_GE(c, 1) << last_error();
  ASSERT_EQ(wait_for_command(h.get(), c), 1) << last_error();
  EXPECT_EQ(done.calls, 1);
  EXPECT_EQ(log.frees, 1);
  ASSERT_FALSE(log.chunks.empty());
  std::sort(log.chunks.begin(), log.chunks.end(),
            [](const Chunk& a, const Chunk& b) { return a.offset < b.offset; });
  uint64_t next = offset;
  for (const auto& ch : log.chunks) {
    EXPECT_EQ(ch.offset, next) << "chunks must tile the read";
    EXPECT_TRUE(ch.status == LIBNBD_READ_DATA || ch.status == LIBNBD_READ_HOLE) << ch.status;
    // What the chunk callback saw is what landed in the buffer.
    EXPECT_TRUE(std::equal(ch.data.begin(), ch.data.end(), in.begin() + (ch.offset - offset)));
    if (ch.status == LIBNBD_READ_HOLE) {
      EXPECT_TRUE(all_bytes(ch.data, 0));
    }
    next = ch.offset + ch.count;
  }
  EXPECT_EQ(next, offset + in.size());
  EXPECT_TRUE(std::equal(out.begin(), out.end(), in.begin()));
  EXPECT_TRUE(std::all_of(in.begin() + out.size(), in.end(), [](char x) { return x == 0; }));
}

TEST(AioCommands, FlushCompletes) {
  CompletionRecorder done;
  auto h = connected_handle();
  ASSERT_EQ(nbd_can_flush(h.get()), 1);
  const int64_t c = nbd_aio_flush(h.get(), done.callback(), 0);
  ASSERT_GE(c, 1) << last_error();
  EXPECT_EQ(wait_for_command(h.get(), c), 1) << last_error();
  EXPECT_EQ(done.calls, 1);
  EXPECT_EQ(done.seen_error, 0);
}

TEST(AioCommands, TrimThenTheRangeReadsAsZeroes) {
  auto h = connected_handle();
  ASSERT_EQ(nbd_can_trim(h.get()), 1);
  const auto out = pattern(256 * 1024, 4);
  ASSERT_EQ(nbd_pwrite(h.get(), out.data(), out.size(), 0, 0), 0) << last_error();
  const int64_t c = nbd_aio_trim(h.get(), 128 * 1024, 64 * 1024, NBD_NULL_COMPLETION, 0);
  ASSERT_GE(c, 1) << last_error();
  ASSERT_EQ(wait_for_command(h.get(), c), 1) << last_error();
  std::vector<char> in(out.size());
  ASSERT_EQ(nbd_pread(h.get(), in.data(), in.size(), 0, 0), 0) << last_error();
  EXPECT_TRUE(std::equal(out.begin(), out.begin() + 65536, in.begin()));
  EXPECT_TRUE(std::all_of(in.begin() + 65536, in.begin() + 196608, [](char x) { return x == 0; }));
  EXPECT_TRUE(std::equal(out.begin() + 196608, out.end(), in.begin() + 196608));
}

TEST(AioCommands, ZeroThenTheRangeReadsAsZeroes) {
  auto h = connected_handle();
  ASSERT_EQ(nbd_can_zero(h.get()), 1);
  ASSERT_EQ(nbd_can_fast_zero(h.get()), 1);
  const auto out = pattern(96 * 1024, 6);
  ASSERT_EQ(nbd_pwrite(h.get(), out.data(), out.size(), 0, 0), 0) << last_error();
  const int64_t a = nbd_aio_zero(h.get(), 4096, 4096, NBD_NULL_COMPLETION, 0);
  const int64_t b =
      nbd_aio_zero(h.get(), 4096, 16384, NBD_NULL_COMPLETION, LIBNBD_CMD_FLAG_NO_HOLE);
  const int64_t c =
      nbd_aio_zero(h.get(), 4096, 32768, NBD_NULL_COMPLETION, LIBNBD_CMD_FLAG_FAST_ZERO);
  ASSERT_GE(a, 1) << last_error();
  ASSERT_GE(b, 1) << last_error();
  ASSERT_GE(c, 1) << last_error();
  EXPECT_EQ(wait_for_command(h.get(), a), 1) << last_error();
  EXPECT_EQ(wait_for_command(h.get(), b), 1) << last_error();
  EXPECT_EQ(wait_for_command(h.get(), c), 1) << last_error();
  std::vector<char> in(out.size());
  ASSERT_EQ(nbd_pread(h.get(), in.data(), in.size(), 0, 0), 0) << last_error();
  auto expected = out;
  for (std::size_t at : {4096u, 16384u, 32768u}) std::fill_n(expected.begin() + at, 4096, 0);
  EXPECT_EQ(in, expected);
}

TEST(AioCommands, CacheCompletes) {
  CompletionRecorder done;
  auto h = connected_handle();
  ASSERT_EQ(nbd_can_cache(h.get()), 1);
  const int64_t c = nbd_aio_cache(h.get(), 65536, 0, done.callback(), 0);
  ASSERT_GE(c, 1) << last_error();
  EXPECT_EQ(wait_for_command(h.get(), c), 1) << last_error();
  EXPECT_EQ(done.calls, 1);
}

TEST(AioCommands, CookiesArePositiveAndUnique) {
  auto h = connected_handle();
  std::vector<char> buf(512);
  std::set<int64_t> cookies;
  for (int i = 0; i < 50; ++i) {
    const int64_t kinds[] = {
        nbd_aio_pread(h.get(), buf.data(), buf.size(), 0, NBD_NULL_COMPLETION, 0),
        nbd_aio_flush(h.get(), NBD_NULL_COMPLETION, 0),
        nbd_aio_cache(h.get(), 512, 512, NBD_NULL_COMPLETION, 0),
    };
    for (int64_t c : kinds) {
      ASSERT_GE(c, 1) << last_error();
      EXPECT_TRUE(cookies.insert(c).second) << "cookie " << c << " given twice";
    }
  }
  for (int64_t c : cookies) EXPECT_EQ(wait_for_command(h.get(), c), 1) << last_error();
  // Retired cookies are not handed out again.
  const int64_t later = nbd_aio_flush(h.get(), NBD_NULL_COMPLETION, 0);
  EXPECT_EQ(cookies.count(later), 0u);
  EXPECT_EQ(wait_for_command(h.get(), later), 1);
}

TEST(AioCommands, RefusedBeforeConnecting) {
  auto h = new_handle();
  std::vector<char> buf(512);
  EXPECT_EQ(nbd_aio_pread(h.get(), buf.data(), buf.size(), 0, NBD_NULL_COMPLETION, 0), -1);
  EXPECT_EQ(nbd_get_errno(), ENOTCONN);
  EXPECT_EQ(nbd_aio_pwrite(h.get(), buf.data(), buf.size(), 0, NBD_NULL_COMPLETION, 0), -1);
  EXPECT_EQ(nbd_get_errno(), ENOTCONN);
  EXPECT_EQ(nbd_aio_flush(h.get(), NBD_NULL_COMPLETION, 0), -1);
  EXPECT_EQ(nbd_get_errno(), ENOTCONN);
  EXPECT_EQ(nbd_aio_disconnect(h.get(), 0), -1);
  EXPECT_EQ(nbd_get_errno(), ENOTCONN);
}

// ---- nbd_aio_command_completed ----

TEST(AioCommandCompleted, ZeroWhileInFlightThenOneAfterSuccess) {
  auto h = connected_handle();
  std::vector<char> buf(4096);
  const int64_t c = nbd_aio_pread(h.get(), buf.data(), buf.size(), 0, NBD_NULL_COMPLETION, 0);
  ASSERT_GE(c, 1) << last_error();
  // Nothing has been polled: the reply cannot have been read.
  EXPECT_EQ(nbd_aio_command_completed(h.get(), c), 0);
  EXPECT_EQ(wait_for_command(h.get(), c), 1) << last_error();
}

TEST(AioCommandCompleted, FailureGivesMinusOneWithTheCommandErrno) {
  CompletionRecorder done;
  auto h = connected_handle(kFailingReads);
  std::vector<char> buf(4096);
  const int64_t c = nbd_aio_pread(h.get(), buf.data(), buf.size(), 0, done.callback(), 0);
  ASSERT_GE(c, 1) << last_error();
  ASSERT_TRUE(poll_until(h.get(), [&] { return done.calls == 1; }));
  EXPECT_EQ(done.seen_error, ENOSPC);
  EXPECT_EQ(nbd_aio_command_completed(h.get(), c), -1);
  EXPECT_EQ(nbd_get_errno(), ENOSPC) << last_error();
  // Failed commands are retired too.
  EXPECT_EQ(nbd_aio_command_completed(h.get(), c), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL) << last_error();
  // The connection goes on.
  EXPECT_EQ(nbd_aio_is_ready(h.get()), 1);
}

TEST(AioCommandCompleted, UnknownCookieIsEinval) {
  auto h = connected_handle();
  EXPECT_EQ(nbd_aio_command_completed(h.get(), 12345), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_aio_command_completed(h.get(), 0), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
}

TEST(AioCommandCompleted, RetiredCookieIsEinval) {
  auto h = connected_handle();
  const int64_t c = nbd_aio_flush(h.get(), NBD_NULL_COMPLETION, 0);
  ASSERT_GE(c, 1) << last_error();
  ASSERT_EQ(wait_for_command(h.get(), c), 1);
  EXPECT_EQ(nbd_aio_command_completed(h.get(), c), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
}

// ---- nbd_aio_peek_command_completed ----

TEST(AioPeekCommandCompleted, NothingInFlightIsAnError) {
  auto h = connected_handle();
  EXPECT_EQ(nbd_aio_peek_command_completed(h.get()), -1);
  EXPECT_NE(nbd_get_errno(), 0);
}

TEST(AioPeekCommandCompleted, ZeroUntilACommandCompletesThenItsCookie) {
  auto h = connected_handle();
  std::vector<char> buf(4096);
  const int64_t c = nbd_aio_pread(h.get(), buf.data(), buf.size(), 0, NBD_NULL_COMPLETION, 0);
  ASSERT_GE(c, 1) << last_error();
  EXPECT_EQ(nbd_aio_peek_command_completed(h.get()), 0);
  int64_t peeked = 0;
  ASSERT_TRUE(
      poll_until(h.get(), [&] { return (peeked = nbd_aio_peek_command_completed(h.get())) != 0; }));
  EXPECT_EQ(peeked, c);
  // Peeking does not retire: the same cookie again, until it is retired.
  EXPECT_EQ(nbd_aio_peek_command_completed(h.get()), c);
  EXPECT_EQ(nbd_aio_command_completed(h.get(), c), 1);
  EXPECT_EQ(nbd_aio_peek_command_completed(h.get()), -1);
}

// ---- nbd_aio_in_flight ----

TEST(AioInFlight, CountsCommandsAwaitingAReply) {
  auto h = connected_handle();
  std::vector<char> buf(4096);
  std::vector<int64_t> cookies;
  for (int i = 0; i < 3; ++i) {
    cookies.push_back(nbd_aio_pread(h.get(), buf.data(), buf.size(), 0, NBD_NULL_COMPLETION, 0));
    ASSERT_GE(cookies.back(), 1) << last_error();
    EXPECT_EQ(nbd_aio_in_flight(h.get()), i + 1);
  }
  // Answered but not yet retired: no longer in flight.
  ASSERT_TRUE(poll_until(h.get(), [&] { return nbd_aio_in_flight(h.get()) == 0; }));
  for (int64_t c : cookies) EXPECT_EQ(nbd_aio_command_completed(h.get(), c), 1);
  EXPECT_EQ(nbd_aio_in_flight(h.get()), 0);
}

TEST(AioInFlight, RefusedBeforeConnecting) {
  auto h = new_handle();
  EXPECT_EQ(nbd_aio_in_flight(h.get()), -1);
  EXPECT_NE(nbd_get_errno(), 0);
}

// ---- nbd_aio_disconnect ----

TEST(AioDisconnect, EndsTheConnectionAndRefusesFurtherCommands) {
  auto h = connected_handle();
  EXPECT_EQ(nbd_aio_disconnect(h.get(), 1), -1);  // flags must be 0
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  ASSERT_EQ(nbd_aio_disconnect(h.get(), 0), 0) << last_error();
  std::vector<char> buf(512);
  EXPECT_EQ(nbd_aio_pread(h.get(), buf.data(), buf.size(), 0, NBD_NULL_COMPLETION, 0), -1);
  EXPECT_NE(nbd_get_errno(), 0);
  ASSERT_TRUE(poll_until(h.get(), [&] { return nbd_aio_is_closed(h.get()) == 1; }))
      << nbd_connection_state(h.get());
  EXPECT_EQ(nbd_aio_is_dead(h.get()), 0);
}

}  // namespace
}  // namespace nbdref::test
