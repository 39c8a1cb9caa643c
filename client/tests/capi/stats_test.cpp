// The traffic counters nbd_stats_bytes_sent / _chunks_sent / _bytes_received
// / _chunks_received: zero before any traffic, growing with it (a chunk is
// one message that starts with a magic number: a request, a reply, a
// structured reply chunk, an option or an option reply).
#include "capi_fixture.hpp"

namespace nbdref::test {
namespace {

// NBD request header without extended headers (nbdkit 1.32 has none).
constexpr uint64_t kRequestHeader = 28;
constexpr uint64_t kSimpleReply = 16;

struct Counters {
  uint64_t bytes_sent, chunks_sent, bytes_received, chunks_received;
  static Counters of(nbd_handle* h) {
    return {nbd_stats_bytes_sent(h), nbd_stats_chunks_sent(h), nbd_stats_bytes_received(h),
            nbd_stats_chunks_received(h)};
  }
  Counters operator-(const Counters& o) const {
    return {bytes_sent - o.bytes_sent, chunks_sent - o.chunks_sent,
            bytes_received - o.bytes_received, chunks_received - o.chunks_received};
  }
};

TEST(Stats, ZeroBeforeConnecting) {
  auto h = new_handle();
  const auto c = Counters::of(h.get());
  EXPECT_EQ(c.bytes_sent, 0u);
  EXPECT_EQ(c.chunks_sent, 0u);
  EXPECT_EQ(c.bytes_received, 0u);
  EXPECT_EQ(c.chunks_received, 0u);
}

TEST(Stats, HandshakeCounts) {
  auto h = connected_handle();
  const auto c = Counters::of(h.get());
  // At least the client flags and one option went out; the greeting and
  // the option replies came in.
  EXPECT_GE(c.bytes_sent, 4u + 16u);
  EXPECT_GE(c.chunks_sent, 1u);
  EXPECT_GE(c.bytes_received, 18u);
  EXPECT_GE(c.chunks_received, 2u);
  EXPECT_GE(c.bytes_sent, c.chunks_sent);
  EXPECT_GE(c.bytes_received, c.chunks_received);
}

TEST(Stats, WriteCountsOneRequestWithItsPayload) {
  auto h = connected_handle();
  const auto before = Counters::of(h.get());
  const auto data = pattern(65536, 1);
  ASSERT_EQ(nbd_pwrite(h.get(), data.data(), data.size(), 0, 0), 0) << last_error();
  const auto d = Counters::of(h.get()) - before;
  EXPECT_EQ(d.chunks_sent, 1u);
  EXPECT_EQ(d.bytes_sent, kRequestHeader + data.size());
  EXPECT_GE(d.chunks_received, 1u);
  EXPECT_GE(d.bytes_received, kSimpleReply);
}

TEST(Stats, ReadCountsTheDataReceived) {
  auto h = connected_handle();
  const auto before = Counters::of(h.get());
  std::vector<char> buf(65536);
  ASSERT_EQ(nbd_pread(h.get(), buf.data(), buf.size(), 0, 0), 0) << last_error();
  const auto d = Counters::of(h.get()) - before;
  EXPECT_EQ(d.chunks_sent, 1u);
  EXPECT_EQ(d.bytes_sent, kRequestHeader);
  EXPECT_GE(d.chunks_received, 1u);
  EXPECT_GE(d.bytes_received, buf.size() + kSimpleReply);
}

TEST(Stats, GrowWithManyCommandsAndStayAfterShutdown) {
  auto h = connected_handle();
  const auto before = Counters::of(h.get());
  std::vector<char> buf(4096);
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(nbd_pread(h.get(), buf.data(), buf.size(), 0, 0), 0) << last_error();
  }
  const auto after = Counters::of(h.get());
  const auto d = after - before;
  EXPECT_EQ(d.chunks_sent, 10u);
  EXPECT_GE(d.chunks_received, 10u);
  EXPECT_GE(d.bytes_received, 10u * buf.size());
  ASSERT_EQ(nbd_shutdown(h.get(), 0), 0) << last_error();
  const auto closed = Counters::of(h.get());
  EXPECT_GE(closed.bytes_sent, after.bytes_sent);  // the disconnect request, at least
  EXPECT_GE(closed.chunks_sent, after.chunks_sent + 1);
  EXPECT_GE(closed.bytes_received, after.bytes_received);
}

TEST(Stats, OptionsCountInOptionMode) {
  auto h = new_handle();
  ASSERT_EQ(nbd_set_opt_mode(h.get(), true), 0);
  ASSERT_EQ(connect_nbdkit(h.get()), 0) << last_error();
  const auto before = Counters::of(h.get());
  struct Ignore {
    static int cb(void*, const char*, const char*) { return 0; }
  };
  ASSERT_GE(nbd_opt_list(h.get(), {Ignore::cb, nullptr, nullptr}), 0) << last_error();
  const auto d = Counters::of(h.get()) - before;
  EXPECT_EQ(d.chunks_sent, 1u);      // one option
  EXPECT_EQ(d.bytes_sent, 16u);      // magic, option, length 0
  EXPECT_GE(d.chunks_received, 1u);  // at least the final acknowledgement
}

}  // namespace
}  // namespace nbdref::test
