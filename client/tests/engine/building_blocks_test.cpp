// The engine's containers: output queue, input buffer, range set, command table.
#include <cstring>
#include <set>

#include <gtest/gtest.h>

#include "engine/command_table.hpp"
#include "engine/cookie_table.hpp"
#include "engine/input_buffer.hpp"
#include "engine/output_queue.hpp"
#include "engine/range_set.hpp"
#include "support/hex.hpp"
#include "wire/constants.hpp"

namespace nbdref::engine {
namespace {

std::vector<std::uint8_t> drain(OutputQueue& q, std::size_t max_per_write = SIZE_MAX) {
  std::vector<std::uint8_t> out;
  iovec v[16];
  while (!q.empty()) {
    const std::size_t n = q.gather(v);
    std::size_t budget = max_per_write, total = 0;
    for (std::size_t i = 0; i < n && budget > 0; ++i) {
      const std::size_t take = std::min(budget, v[i].iov_len);
      const auto* p = static_cast<const std::uint8_t*>(v[i].iov_base);
      out.insert(out.end(), p, p + take);
      budget -= take;
      total += take;
    }
    q.consume(total);
  }
  return out;
}

TEST(OutputQueue, CopiesAndReferencesComeOutInOrder) {
  OutputQueue q;
  const std::vector<std::uint8_t> big(1000, 7);
  q.append_copy(test::hex("0102"));
  q.append_reference(big);
  q.append_copy(test::hex("03"));
  EXPECT_EQ(q.pending_bytes(), 1003u);
  auto out = drain(q, 333);  // partial writes
  ASSERT_EQ(out.size(), 1003u);
  EXPECT_EQ(out[0], 1);
  EXPECT_EQ(out[2], 7);
  EXPECT_EQ(out[1002], 3);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.sent(), 1003u);
}

TEST(OutputQueue, AdjacentCopiesShareASegment) {
  OutputQueue q;
  for (int i = 0; i < 10; ++i) q.append_copy(test::hex("aabb"));
  iovec v[4];
  EXPECT_EQ(q.gather(v), 1u);
  EXPECT_EQ(v[0].iov_len, 20u);
}

TEST(OutputQueue, TruncateDropsTheUnsentTail) {
  OutputQueue q;
  const std::vector<std::uint8_t> big(100, 9);
  q.append_copy(test::hex("01020304"));
  const auto mark = q.enqueued();
  q.append_reference(big);
  q.append_copy(test::hex("05"));
  q.consume(2);
  q.truncate(mark);
  EXPECT_EQ(q.enqueued(), mark);
  EXPECT_EQ(drain(q), test::hex("0304"));
}

TEST(OutputQueue, SustainedLoadDoesNotGrowWithoutBound) {
  OutputQueue q;
  const std::vector<std::uint8_t> payload(1, 0xff);
  // Never fully drained: one request stays queued while each new one arrives.
  q.append_copy(std::vector<std::uint8_t>(28, 1));
  q.append_reference(payload);
  for (int i = 0; i < 100000; ++i) {
    q.append_copy(std::vector<std::uint8_t>(28, 2));
    q.append_reference(payload);  // splits the storage into many segments
    q.consume(29);
    ASSERT_EQ(q.pending_bytes(), 29u);
  }
  EXPECT_LT(q.retained_bytes(), 256u * 1024);
}

TEST(OutputQueue, SustainedCopiesSentInPartsDoNotGrowWithoutBound) {
  OutputQueue q;
  // 4 KiB writes are copied next to their headers, so they all extend one
  // segment; a socket that is always full takes part of it each time.
  // Request r is 4124 bytes of value r % 251.
  constexpr std::size_t kRequest = 28 + 4096;
  const auto request = [](int r) {
    return std::vector<std::uint8_t>(kRequest, static_cast<std::uint8_t>(r % 251));
  };
  int appended = 0;
  for (; appended < 64; ++appended) q.append_copy(request(appended));
  q.consume(100);  // from now on every write ends inside a request
  std::uint64_t expected_sent = 100;
  for (int i = 0; i < 20000; ++i) {
    q.append_copy(request(appended++));
    q.consume(kRequest);
    expected_sent += kRequest;
  }
  EXPECT_EQ(q.sent(), expected_sent);
  // About 64 requests unsent; the 80 MB sent are gone.
  EXPECT_LT(q.retained_bytes(), 1024u * 1024);
  // What is left is the tail of the stream, in order.
  const auto rest = drain(q);
  ASSERT_EQ(rest.size(), static_cast<std::uint64_t>(appended) * kRequest - expected_sent);
  for (std::size_t back = 0; back < rest.size(); ++back) {
    const int r = appended - 1 - static_cast<int>(back / kRequest);
    ASSERT_EQ(rest[rest.size() - 1 - back], r % 251) << back;
  }
}

TEST(InputBuffer, SpaceGrowsForLargeMessagesAndCompacts) {
  InputBuffer b(16);
  auto s = b.space(4);
  ASSERT_GE(s.size(), 4u);
  std::memcpy(s.data(), "abcdefgh", 8);
  b.commit(8);
  b.consume(6);
  s = b.space(100);
  EXPECT_GE(s.size() + b.size(), 100u);
  EXPECT_EQ(b.size(), 2u);
  EXPECT_EQ(b.peek(2)[0], 'g');
}

TEST(RangeSet, DetectsOverlapAndMergesNeighbours) {
  RangeSet r;
  EXPECT_TRUE(r.insert_disjoint(100, 200));
  EXPECT_TRUE(r.insert_disjoint(300, 400));
  EXPECT_FALSE(r.insert_disjoint(150, 160));
  EXPECT_FALSE(r.insert_disjoint(199, 301));
  EXPECT_FALSE(r.insert_disjoint(50, 101));
  EXPECT_TRUE(r.insert_disjoint(200, 300));  // fills the gap exactly
  EXPECT_TRUE(r.insert_disjoint(0, 100));
  EXPECT_EQ(r.covered(), 400u);
  EXPECT_FALSE(r.insert_disjoint(399, 400));
  r.clear();
  EXPECT_EQ(r.covered(), 0u);
  EXPECT_TRUE(r.insert_disjoint(0, 1));
}

TEST(CommandTable, FindsAndRemovesUnderChurn) {
  CommandTable t;
  std::set<std::uint64_t> live;
  std::uint64_t next = 1;
  // Insert many, remove in a scattered order, and check every lookup.
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 97; ++i) {
      t.add(next);
      live.insert(next++);
    }
    int k = 0;
    for (auto it = live.begin(); it != live.end();) {
      if (++k % 3 == 0) {
        Command* c = t.find(*it);
        ASSERT_NE(c, nullptr);
        t.remove(*c);
        it = live.erase(it);
      } else {
        ++it;
      }
    }
    ASSERT_EQ(t.size(), live.size());
    for (auto cookie : live) ASSERT_NE(t.find(cookie), nullptr) << cookie;
    EXPECT_EQ(t.find(next + 5), nullptr);
  }
}

TEST(CommandTable, RecordsAreReused) {
  CommandTable t;
  Command* first = &t.add(1);
  first->record_error(5, "x");
  t.remove(*first);
  Command* second = &t.add(2);
  EXPECT_EQ(first, second);
  EXPECT_EQ(second->errnum, 0);  // reset for reuse
  EXPECT_TRUE(second->error_message.empty());
}

TEST(CommandTable, CountsTheLargeReadsInFlight) {
  CommandTable t;
  CommandRequest large_read, small_read, large_write;
  large_read.type = small_read.type = wire::NBD_CMD_READ;
  large_write.type = wire::NBD_CMD_WRITE;
  large_read.length = large_write.length = LARGE_READ;
  small_read.length = LARGE_READ - 1;
  Command& a = t.add(1, large_read);
  t.add(2, small_read);
  t.add(3, large_write);
  EXPECT_EQ(t.large_reads(), 1u);
  t.remove(a);
  EXPECT_EQ(t.large_reads(), 0u);
  EXPECT_EQ(t.size(), 2u);
}

TEST(CookieTable, VisitsEveryRecordAndIgnoresUnknownRemovals) {
  CookieTable<int> t;
  for (std::uint64_t cookie = 1; cookie <= 100; ++cookie) t.add(cookie) = static_cast<int>(cookie);
  t.remove(1000);  // not in the table: nothing happens
  EXPECT_EQ(t.size(), 100u);
  for (std::uint64_t cookie = 2; cookie <= 100; cookie += 2) t.remove(cookie);
  std::set<std::uint64_t> seen;
  t.for_each([&](std::uint64_t cookie, int& value) {
    EXPECT_EQ(value, static_cast<int>(cookie));
    seen.insert(cookie);
  });
  EXPECT_EQ(seen.size(), 50u);
  EXPECT_EQ(*seen.begin(), 1u);
  EXPECT_EQ(*seen.rbegin(), 99u);
  for (const auto cookie : seen) EXPECT_EQ(cookie % 2, 1u);
}

}  // namespace
}  // namespace nbdref::engine
