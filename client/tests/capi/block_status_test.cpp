// Meta contexts and block status: nbd_add_meta_context(3) and the functions
// that inspect the list, nbd_can_meta_context(3), nbd_block_status(3),
// nbd_block_status_64 and their asynchronous forms. nbdkit's memory plugin
// reports what was written as data and what was trimmed (or never written)
// as a hole that reads as zeroes.
#include "capi_fixture.hpp"

namespace nbdref::test {
namespace {

constexpr uint64_t kK = 1024;

struct Extent {
  uint64_t offset;
  uint64_t length;
  uint64_t flags;
  bool operator==(const Extent&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Extent& e) {
  return os << "[" << e.offset << "+" << e.length << " flags " << e.flags << "]";
}

// Extents as reported, with neighbours of equal flags merged (a server may
// split a run at any boundary).
struct Extents {
  std::vector<Extent> list;
  int calls = 0;
  std::vector<std::string> contexts;

  void add(uint64_t offset, uint64_t length, uint64_t flags) {
    if (!list.empty() && list.back().flags == flags &&
        list.back().offset + list.back().length == offset) {
      list.back().length += length;
    } else {
      list.push_back({offset, length, flags});
    }
  }
  static int on_extents(void* user_data, const char* context, uint64_t offset, uint32_t* entries,
                        size_t nr_entries, int*) {
    auto* self = static_cast<Extents*>(user_data);
    ++self->calls;
    self->contexts.emplace_back(context);
    EXPECT_EQ(nr_entries % 2, 0u);
    for (size_t i = 0; i + 1 < nr_entries; i += 2) {
      self->add(offset, entries[i], entries[i + 1]);
      offset += entries[i];
    }
    return 0;
  }
  static int on_extents64(void* user_data, const char* context, uint64_t offset,
                          nbd_extent* entries, size_t nr_entries, int*) {
    auto* self = static_cast<Extents*>(user_data);
    ++self->calls;
    self->contexts.emplace_back(context);
    for (size_t i = 0; i < nr_entries; ++i) {
      self->add(offset, entries[i].length, entries[i].flags);
      offset += entries[i].length;
    }
    return 0;
  }
  nbd_extent_callback cb() { return {on_extents, this, nullptr}; }
  nbd_extent64_callback cb64() { return {on_extents64, this, nullptr}; }

  // The flags over [offset, offset+length): every flag seen, or only those
  // set everywhere.
  uint64_t any_flags(uint64_t offset, uint64_t length) const { return fold(offset, length, true); }
  uint64_t all_flags(uint64_t offset, uint64_t length) const { return fold(offset, length, false); }

 private:
  uint64_t fold(uint64_t offset, uint64_t length, bool any) const {
    uint64_t acc = any ? 0 : ~uint64_t{0};
    for (const auto& e : list) {
      if (e.offset + e.length <= offset || e.offset >= offset + length) continue;
      acc = any ? (acc | e.flags) : (acc & e.flags);
    }
    return acc;
  }
};

constexpr uint64_t kHoleZero = LIBNBD_STATE_HOLE | LIBNBD_STATE_ZERO;

HandlePtr with_base_allocation(const NbdkitCommand& command = {}) {
  auto h = new_handle();
  EXPECT_EQ(nbd_add_meta_context(h.get(), LIBNBD_CONTEXT_BASE_ALLOCATION), 0);
  EXPECT_EQ(connect_nbdkit(h.get(), command), 0) << last_error();
  return h;
}

// [0, 128K) written, then [64K, 128K) trimmed; the rest never written.
void write_then_trim(nbd_handle* h) {
  const auto data = pattern(128 * kK, 1);
  ASSERT_EQ(nbd_pwrite(h, data.data(), data.size(), 0, 0), 0) << last_error();
  ASSERT_EQ(nbd_trim(h, 64 * kK, 64 * kK, 0), 0) << last_error();
}

void expect_written_and_trimmed(const Extents& e) {
  ASSERT_FALSE(e.list.empty());
  EXPECT_EQ(e.list.front().offset, 0u);
  EXPECT_GE(e.list.back().offset + e.list.back().length, 256 * kK) << "covers the request";
  EXPECT_EQ(e.any_flags(0, 64 * kK), 0u) << "written: data, not zero";
  EXPECT_EQ(e.all_flags(64 * kK, 64 * kK), kHoleZero) << "trimmed: a hole of zeroes";
  EXPECT_EQ(e.all_flags(128 * kK, 128 * kK), kHoleZero) << "never written";
  for (const auto& c : e.contexts) EXPECT_EQ(c, LIBNBD_CONTEXT_BASE_ALLOCATION);
}

// ---- the list of contexts to ask for ----

TEST(MetaContextList, AddCountGetAndClear) {
  auto h = new_handle();
  EXPECT_EQ(nbd_get_nr_meta_contexts(h.get()), 0);
  ASSERT_EQ(nbd_add_meta_context(h.get(), LIBNBD_CONTEXT_BASE_ALLOCATION), 0);
  ASSERT_EQ(nbd_add_meta_context(h.get(), "qemu:dirty-bitmap:b0"), 0);
  ASSERT_EQ(nbd_add_meta_context(h.get(), "qemu:allocation-depth"), 0);
  EXPECT_EQ(nbd_get_nr_meta_contexts(h.get()), 3);
  const char* expected[] = {LIBNBD_CONTEXT_BASE_ALLOCATION, "qemu:dirty-bitmap:b0",
                            "qemu:allocation-depth"};
  for (size_t i = 0; i < 3; ++i) {
    char* name = nbd_get_meta_context(h.get(), i);
    ASSERT_NE(name, nullptr) << last_error();
    EXPECT_STREQ(name, expected[i]);
    std::free(name);
  }
  EXPECT_EQ(nbd_get_meta_context(h.get(), 3), nullptr);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_add_meta_context(h.get(), nullptr), -1);
  EXPECT_EQ(nbd_get_errno(), EFAULT);
  ASSERT_EQ(nbd_clear_meta_contexts(h.get()), 0);
  EXPECT_EQ(nbd_get_nr_meta_contexts(h.get()), 0);
  EXPECT_EQ(nbd_get_meta_context(h.get(), 0), nullptr);
}

TEST(MetaContextList, FrozenOnceConnected) {
  auto h = with_base_allocation();
  EXPECT_EQ(nbd_add_meta_context(h.get(), "qemu:allocation-depth"), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_clear_meta_contexts(h.get()), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_get_nr_meta_contexts(h.get()), 1);  // still readable
}

// ---- nbd_can_meta_context ----

TEST(CanMetaContext, ReportsWhatTheServerAgreedTo) {
  auto h = new_handle();
  ASSERT_EQ(nbd_add_meta_context(h.get(), LIBNBD_CONTEXT_BASE_ALLOCATION), 0);
  ASSERT_EQ(nbd_add_meta_context(h.get(), "x-nbdref:unknown"), 0);
  EXPECT_EQ(nbd_can_meta_context(h.get(), LIBNBD_CONTEXT_BASE_ALLOCATION), -1);  // not yet
  ASSERT_EQ(connect_nbdkit(h.get()), 0) << last_error();
  EXPECT_EQ(nbd_can_meta_context(h.get(), LIBNBD_CONTEXT_BASE_ALLOCATION), 1);
  EXPECT_EQ(nbd_can_meta_context(h.get(), "x-nbdref:unknown"), 0);
  EXPECT_EQ(nbd_can_meta_context(h.get(), "qemu:allocation-depth"), 0);  // never asked
  EXPECT_EQ(nbd_can_meta_context(h.get(), nullptr), -1);
  EXPECT_EQ(nbd_get_errno(), EFAULT);
}

TEST(CanMetaContext, NothingAskedForNothingAgreedAndBlockStatusFails) {
  Extents e;
  auto h = connected_handle();
  EXPECT_EQ(nbd_can_meta_context(h.get(), LIBNBD_CONTEXT_BASE_ALLOCATION), 0);
  EXPECT_EQ(nbd_block_status(h.get(), 4096, 0, e.cb(), 0), -1);
  EXPECT_NE(nbd_get_errno(), 0);
  EXPECT_EQ(e.calls, 0);
}

// ---- the extents ----

TEST(BlockStatus, ExtentsFollowWritesAndTrims) {
  Extents e;
  auto h = with_base_allocation();
  write_then_trim(h.get());
  ASSERT_EQ(nbd_block_status(h.get(), 256 * kK, 0, e.cb(), 0), 0) << last_error();
  EXPECT_GE(e.calls, 1);
  expect_written_and_trimmed(e);
}

TEST(BlockStatus, StartsAtTheRequestedOffset) {
  Extents e;
  auto h = with_base_allocation();
  write_then_trim(h.get());
  ASSERT_EQ(nbd_block_status(h.get(), 64 * kK, 32 * kK, e.cb(), 0), 0) << last_error();
  ASSERT_FALSE(e.list.empty());
  EXPECT_EQ(e.list.front().offset, 32 * kK);
  EXPECT_EQ(e.any_flags(32 * kK, 32 * kK), 0u);
  EXPECT_EQ(e.all_flags(64 * kK, 32 * kK), kHoleZero);
}

TEST(BlockStatus, ReqOneGivesExactlyOneExtent) {
  auto h = with_base_allocation();
  write_then_trim(h.get());
  struct One {
    int calls = 0;
    size_t nr_entries = 0;
    uint32_t length = 0, flags = 0;
    static int cb(void* user_data, const char*, uint64_t, uint32_t* entries, size_t nr, int*) {
      auto* self = static_cast<One*>(user_data);
      ++self->calls;
      self->nr_entries = nr;
      if (nr >= 2) {
        self->length = entries[0];
        self->flags = entries[1];
      }
      return 0;
    }
  } one;
  ASSERT_EQ(
      nbd_block_status(h.get(), 256 * kK, 0, {One::cb, &one, nullptr}, LIBNBD_CMD_FLAG_REQ_ONE), 0)
      << last_error();
  EXPECT_EQ(one.calls, 1);
  EXPECT_EQ(one.nr_entries, 2u);  // one (length, flags) pair
  EXPECT_GT(one.length, 0u);
  EXPECT_LE(one.length, 64 * kK);  // the written run, no further
  EXPECT_EQ(one.flags, 0u);
}

TEST(BlockStatus64, SameExtentsWithSixtyFourBitEntries) {
  Extents narrow, wide;
  auto h = with_base_allocation();
  write_then_trim(h.get());
  ASSERT_EQ(nbd_block_status(h.get(), 256 * kK, 0, narrow.cb(), 0), 0) << last_error();
  ASSERT_EQ(nbd_block_status_64(h.get(), 256 * kK, 0, wide.cb64(), 0), 0) << last_error();
  expect_written_and_trimmed(wide);
  EXPECT_EQ(wide.list, narrow.list);
}

TEST(BlockStatus64, ReqOneGivesExactlyOneExtent) {
  auto h = with_base_allocation();
  write_then_trim(h.get());
  struct One {
    int calls = 0;
    size_t nr_entries = 0;
    static int cb(void* user_data, const char*, uint64_t, nbd_extent*, size_t nr, int*) {
      auto* self = static_cast<One*>(user_data);
      ++self->calls;
      self->nr_entries = nr;
      return 0;
    }
  } one;
  ASSERT_EQ(
      nbd_block_status_64(h.get(), 256 * kK, 0, {One::cb, &one, nullptr}, LIBNBD_CMD_FLAG_REQ_ONE),
      0)
      << last_error();
  EXPECT_EQ(one.calls, 1);
  EXPECT_EQ(one.nr_entries, 1u);
}

TEST(AioBlockStatus, ExtentsThenCompletion) {
  Extents e;
  CompletionRecorder done;
  auto h = with_base_allocation();
  write_then_trim(h.get());
  const int64_t c = nbd_aio_block_status(h.get(), 256 * kK, 0, e.cb(), done.callback(), 0);
  ASSERT_GE(c, 1) << last_error();
  ASSERT_EQ(wait_for_command(h.get(), c), 1) << last_error();
  EXPECT_EQ(done.calls, 1);
  EXPECT_EQ(done.seen_error, 0);
  expect_written_and_trimmed(e);
}

TEST(AioBlockStatus64, ExtentsThenCompletion) {
  Extents e;
  CompletionRecorder done;
  auto h = with_base_allocation();
  write_then_trim(h.get());
  const int64_t c = nbd_aio_block_status_64(h.get(), 256 * kK, 0, e.cb64(), done.callback(), 0);
  ASSERT_GE(c, 1) << last_error();
  ASSERT_EQ(wait_for_command(h.get(), c), 1) << last_error();
  EXPECT_EQ(done.calls, 1);
  expect_written_and_trimmed(e);
}

TEST(AioBlockStatus, ReqOneGivesOneExtent) {
  Extents e;
  auto h = with_base_allocation();
  write_then_trim(h.get());
  const int64_t c = nbd_aio_block_status(h.get(), 256 * kK, 64 * kK, e.cb(), NBD_NULL_COMPLETION,
                                         LIBNBD_CMD_FLAG_REQ_ONE);
  ASSERT_GE(c, 1) << last_error();
  ASSERT_EQ(wait_for_command(h.get(), c), 1) << last_error();
  ASSERT_EQ(e.list.size(), 1u);
  EXPECT_EQ(e.list[0].offset, 64 * kK);
  EXPECT_EQ(e.list[0].flags, kHoleZero);
}

}  // namespace
}  // namespace nbdref::test
