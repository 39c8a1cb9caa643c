// The C API against real servers: flags as the server was started, data
// written and read back, flush, trim, zero, block status, and the errors a
// client must produce (proto.md "Transmission", "Size constraints").
#include <cerrno>
#include <cstring>
#include <numeric>
#include <vector>

#include <gtest/gtest.h>
#include <libnbd.h>

#include "interop_targets.hpp"

namespace nbdref::test {
namespace {

struct HandleCloser {
  void operator()(nbd_handle* h) const { nbd_close(h); }
};
using HandlePtr = std::unique_ptr<nbd_handle, HandleCloser>;

std::vector<char> pattern(std::size_t n, unsigned seed) {
  std::vector<char> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<char>(seed * 131 + i * 7 + (i >> 10));
  return v;
}

class CApiInterop : public ::testing::TestWithParam<std::string> {
 protected:
  const InteropTarget& target() { return interop_target(GetParam()); }

  // A fresh handle connected over the target's transport, with base:allocation asked for.
  HandlePtr connect(std::uint32_t strict = LIBNBD_STRICT_MASK) {
    const auto& t = target();
    HandlePtr h(nbd_create());
    EXPECT_NE(h, nullptr);
    EXPECT_EQ(nbd_add_meta_context(h.get(), LIBNBD_CONTEXT_BASE_ALLOCATION), 0);
    EXPECT_EQ(nbd_set_export_name(h.get(), t.export_name.c_str()), 0);
    EXPECT_EQ(nbd_set_strict_mode(h.get(), strict), 0);
    const int r = t.endpoint.is_unix()
                      ? nbd_connect_unix(h.get(), t.endpoint.unix_path.c_str())
                      : nbd_connect_tcp(h.get(), t.endpoint.host.c_str(), t.endpoint.port.c_str());
    EXPECT_EQ(r, 0) << nbd_get_error();
    return h;
  }
};

// Suites for what only some servers offer; each runs only where it applies.
class CApiInteropWritable : public CApiInterop {};
class CApiInteropBlockStatus : public CApiInterop {};
class CApiInteropReadOnly : public CApiInterop {};
class CApiInteropMultiConn : public CApiInterop {};

TEST_P(CApiInterop, ReportsSizeAndEveryFlagAsTheServerWasStarted) {
  auto h = connect();
  const auto& e = target().expect;
  EXPECT_EQ(nbd_get_size(h.get()), static_cast<int64_t>(target().size));
  EXPECT_EQ(nbd_is_read_only(h.get()), e.read_only);
  EXPECT_EQ(nbd_can_flush(h.get()), e.flush);
  EXPECT_EQ(nbd_can_fua(h.get()), e.fua);
  EXPECT_EQ(nbd_can_trim(h.get()), e.trim);
  EXPECT_EQ(nbd_can_zero(h.get()), e.zero);
  EXPECT_EQ(nbd_can_fast_zero(h.get()), e.fast_zero);
  EXPECT_EQ(nbd_can_df(h.get()), e.df);
  EXPECT_EQ(nbd_can_multi_conn(h.get()), e.multi_conn);
  EXPECT_EQ(nbd_can_cache(h.get()), e.cache);
  EXPECT_EQ(nbd_is_rotational(h.get()), 0);
  EXPECT_EQ(nbd_get_structured_replies_negotiated(h.get()), e.structured_replies);
  EXPECT_EQ(nbd_can_meta_context(h.get(), LIBNBD_CONTEXT_BASE_ALLOCATION), e.base_allocation);
  EXPECT_EQ(nbd_get_block_size(h.get(), LIBNBD_SIZE_MINIMUM), e.minimum_block);
  EXPECT_STREQ(nbd_get_protocol(h.get()), "newstyle-fixed");
  EXPECT_STREQ(nbd_connection_state(h.get()), "ready");
  EXPECT_EQ(nbd_shutdown(h.get(), 0), 0) << nbd_get_error();
  EXPECT_STREQ(nbd_connection_state(h.get()), "closed");
}

TEST_P(CApiInteropWritable, WritePatternsAtManyOffsetsAndSizesReadBack) {
  auto h = connect();
  const std::uint64_t offsets[] = {0, 512, 4096, 65536, 1 << 20, (1 << 20) + 512};
  const std::size_t sizes[] = {512, 1024, 4096, 65536, 1 << 20, 4 << 20};
  unsigned seed = 1;
  for (auto base : offsets) {
    for (auto n : sizes) {
      const std::uint64_t off = base + (seed % 7) * (8 << 20);
      const auto data = pattern(n, seed++);
      ASSERT_EQ(nbd_pwrite(h.get(), data.data(), n, off, 0), 0) << nbd_get_error();
      std::vector<char> back(n);
      ASSERT_EQ(nbd_pread(h.get(), back.data(), n, off, 0), 0) << nbd_get_error();
      ASSERT_EQ(back, data) << "offset " << off << " size " << n;
    }
  }
  if (target().expect.fua) {
    const auto data = pattern(4096, 77);
    EXPECT_EQ(nbd_pwrite(h.get(), data.data(), 4096, 0, LIBNBD_CMD_FLAG_FUA), 0) << nbd_get_error();
  }
  if (target().expect.flush) {
    EXPECT_EQ(nbd_flush(h.get(), 0), 0) << nbd_get_error();
  }
}

TEST_P(CApiInteropWritable, ZeroThenReadGivesZeroes) {
  auto h = connect();
  const std::uint64_t off = 40 << 20;
  const auto data = pattern(1 << 20, 5);
  ASSERT_EQ(nbd_pwrite(h.get(), data.data(), data.size(), off, 0), 0) << nbd_get_error();
  ASSERT_EQ(nbd_zero(h.get(), 512 * 1024, off + 4096, 0), 0) << nbd_get_error();
  std::vector<char> back(data.size());
  ASSERT_EQ(nbd_pread(h.get(), back.data(), back.size(), off, 0), 0) << nbd_get_error();
  EXPECT_TRUE(std::equal(data.begin(), data.begin() + 4096, back.begin()));
  EXPECT_TRUE(std::all_of(back.begin() + 4096, back.begin() + 4096 + 512 * 1024,
                          [](char c) { return c == 0; }));
  EXPECT_TRUE(
      std::equal(data.begin() + 4096 + 512 * 1024, data.end(), back.begin() + 4096 + 512 * 1024));
}

// C-TX-028: after a trim nothing may be assumed until the range is written
// again -- so the test trims, zeroes and checks the zeroes.
TEST_P(CApiInteropWritable, TrimThenZeroReadsZeroes) {
  auto h = connect();
  const std::uint64_t off = 44 << 20;
  const auto data = pattern(256 * 1024, 9);
  ASSERT_EQ(nbd_pwrite(h.get(), data.data(), data.size(), off, 0), 0);
  ASSERT_EQ(nbd_trim(h.get(), data.size(), off, 0), 0) << nbd_get_error();
  ASSERT_EQ(nbd_zero(h.get(), data.size(), off, LIBNBD_CMD_FLAG_NO_HOLE), 0) << nbd_get_error();
  std::vector<char> back(data.size(), 1);
  ASSERT_EQ(nbd_pread(h.get(), back.data(), back.size(), off, 0), 0);
  EXPECT_TRUE(std::all_of(back.begin(), back.end(), [](char c) { return c == 0; }));
}

struct Extent {
  std::uint64_t offset, length;
  std::uint32_t flags;
};

int collect_extents(void* user_data, const char* context, uint64_t offset, uint32_t* entries,
                    size_t nr_entries, int*) {
  auto* out = static_cast<std::vector<Extent>*>(user_data);
  if (std::strcmp(context, LIBNBD_CONTEXT_BASE_ALLOCATION) != 0) return -1;
  for (std::size_t i = 0; i < nr_entries; i += 2) {
    out->push_back({offset, entries[i], entries[i + 1]});
    offset += entries[i];
  }
  return 0;
}

// What base:allocation says about [offset, offset+length): every flag seen.
std::uint32_t flags_over(const std::vector<Extent>& extents, std::uint64_t offset,
                         std::uint64_t length, bool all) {
  std::uint32_t any = 0, every = ~0u;
  for (const auto& e : extents) {
    if (e.offset + e.length <= offset || e.offset >= offset + length) continue;
    any |= e.flags;
    every &= e.flags;
  }
  return all ? every : any;
}

TEST_P(CApiInteropBlockStatus, FollowsWritesAndTrims) {
  auto h = connect();
  const std::uint64_t off = 48 << 20;
  const auto data = pattern(1 << 20, 3);
  ASSERT_EQ(nbd_pwrite(h.get(), data.data(), data.size(), off, 0), 0);
  ASSERT_EQ(nbd_trim(h.get(), 512 * 1024, off + 512 * 1024, 0), 0);
  std::vector<Extent> extents;
  nbd_extent_callback cb{collect_extents, &extents, nullptr};
  ASSERT_EQ(nbd_block_status(h.get(), 1 << 20, off, cb, 0), 0) << nbd_get_error();
  ASSERT_FALSE(extents.empty());
  EXPECT_EQ(extents.front().offset, off);  // S-BS-050: starts at the request offset
  // The written half is data: never a hole.
  EXPECT_EQ(flags_over(extents, off, 512 * 1024, false) & LIBNBD_STATE_HOLE, 0u);
  // Both servers punch holes on trim (nbdkit memory; qemu-nbd --discard=unmap).
  EXPECT_EQ(flags_over(extents, off + 512 * 1024, 512 * 1024, true) & LIBNBD_STATE_HOLE,
            std::uint32_t{LIBNBD_STATE_HOLE});

  // REQ_ONE: exactly one extent, within the request (S-BS-043).
  extents.clear();
  ASSERT_EQ(nbd_block_status(h.get(), 4096, off, cb, LIBNBD_CMD_FLAG_REQ_ONE), 0);
  ASSERT_EQ(extents.size(), 1u);
  EXPECT_LE(extents[0].length, 4096u);
}

TEST_P(CApiInterop, ReadPastTheEndFailsWithEinval) {
  auto h = connect();
  std::vector<char> buf(1024);
  const auto size = static_cast<std::uint64_t>(target().size);
  // Refused on the client side (C-SZ-012) ...
  EXPECT_EQ(nbd_pread(h.get(), buf.data(), buf.size(), size - 512, 0), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_NE(std::strstr(nbd_get_error(), "beyond the export size"), nullptr) << nbd_get_error();
  // ... and by the server when the client lets it through (S-ERR-005).
  auto relaxed = connect(LIBNBD_STRICT_MASK & ~LIBNBD_STRICT_BOUNDS);
  EXPECT_EQ(nbd_pread(relaxed.get(), buf.data(), buf.size(), size - 512, 0), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL) << nbd_get_error();
  // The connection stays usable (S-TX-012).
  EXPECT_EQ(nbd_pread(relaxed.get(), buf.data(), 512, 0, 0), 0) << nbd_get_error();
}

TEST_P(CApiInteropReadOnly, WriteFailsWithEperm) {
  auto h = connect();
  const auto data = pattern(512, 1);
  EXPECT_EQ(nbd_pwrite(h.get(), data.data(), 512, 0, 0), -1);
  EXPECT_EQ(nbd_get_errno(), EPERM);
  // The server refuses too (S-TX-017, S-ERR-008) and the data stays.
  auto relaxed = connect(LIBNBD_STRICT_MASK & ~LIBNBD_STRICT_COMMANDS);
  std::vector<char> before(512), after(512);
  ASSERT_EQ(nbd_pread(relaxed.get(), before.data(), 512, 0, 0), 0);
  EXPECT_EQ(nbd_pwrite(relaxed.get(), data.data(), 512, 0, 0), -1);
  EXPECT_EQ(nbd_get_errno(), target().expect.read_only_write_errno) << nbd_get_error();
  ASSERT_EQ(nbd_pread(relaxed.get(), after.data(), 512, 0, 0), 0) << nbd_get_error();
  EXPECT_EQ(before, after);
}

// C-TX-010: what the server did not advertise is refused locally.
TEST_P(CApiInterop, UnadvertisedCommandsAreRefused) {
  auto h = connect();
  const auto& e = target().expect;
  if (!e.trim) {
    EXPECT_EQ(nbd_trim(h.get(), 512, 0, 0), -1);
    EXPECT_EQ(nbd_get_errno(), e.read_only ? EPERM : EINVAL);
  }
  if (!e.cache) {
    EXPECT_EQ(nbd_cache(h.get(), 512, 0, 0), -1);
    EXPECT_EQ(nbd_get_errno(), EINVAL);
  } else {
    EXPECT_EQ(nbd_cache(h.get(), 4096, 0, 0), 0) << nbd_get_error();
  }
  if (!e.df) {
    std::vector<char> buf(512);
    EXPECT_EQ(nbd_pread(h.get(), buf.data(), 512, 0, LIBNBD_CMD_FLAG_DF), -1);
    EXPECT_EQ(nbd_get_errno(), EINVAL);
  }
  if (!e.base_allocation) {
    nbd_extent_callback cb{collect_extents, nullptr, nullptr};
    EXPECT_EQ(nbd_block_status(h.get(), 512, 0, cb, 0), -1);
    EXPECT_EQ(nbd_get_errno(), ENOTSUP);
  }
}

// S-TX-021 (proto.md "Transmission flags"): with NBD_FLAG_CAN_MULTI_CONN,
// what one connection wrote and flushed is seen by every other. Four
// connections share the writes (aio, round robin), each flushes, then every
// connection reads back everything.
TEST_P(CApiInteropMultiConn, FourConnectionsShareWritesAndSeeEachOther) {
  constexpr int kConnections = 4, kBlocks = 64, kBlock = 64 * 1024;
  const std::uint64_t base = 16 << 20;
  std::vector<HandlePtr> conns;
  for (int i = 0; i < kConnections; ++i) {
    conns.push_back(connect());
    ASSERT_EQ(nbd_can_multi_conn(conns.back().get()), 1);
  }
  std::vector<std::vector<char>> blocks;
  for (int b = 0; b < kBlocks; ++b) blocks.push_back(pattern(kBlock, 1000 + b));
  for (int b = 0; b < kBlocks; ++b) {
    ASSERT_GE(nbd_aio_pwrite(conns[b % kConnections].get(), blocks[b].data(), kBlock,
                             base + std::uint64_t(b) * kBlock, NBD_NULL_COMPLETION, 0),
              1)
        << nbd_get_error();
  }
  // C-TX-003: each connection's flush comes after the replies to its writes.
  for (auto& c : conns) {
    while (nbd_aio_in_flight(c.get()) > 0) ASSERT_GE(nbd_poll(c.get(), 10000), 0);
    while (nbd_aio_peek_command_completed(c.get()) > 0) {
      ASSERT_EQ(nbd_aio_command_completed(c.get(), nbd_aio_peek_command_completed(c.get())), 1)
          << nbd_get_error();
    }
    ASSERT_EQ(nbd_flush(c.get(), 0), 0) << nbd_get_error();
  }
  std::vector<char> back(kBlock);
  for (auto& c : conns) {
    for (int b = 0; b < kBlocks; ++b) {
      ASSERT_EQ(nbd_pread(c.get(), back.data(), kBlock, base + std::uint64_t(b) * kBlock, 0), 0);
      ASSERT_EQ(back, blocks[b]) << "block " << b;
    }
  }
}

std::string param_name(const ::testing::TestParamInfo<std::string>& p) {
  return p.param;
}

INSTANTIATE_TEST_SUITE_P(Servers, CApiInterop, ::testing::ValuesIn(interop_target_names()),
                         param_name);
// Every writable target advertises trim and zero (nbd-server is configured with trim).
INSTANTIATE_TEST_SUITE_P(Servers, CApiInteropWritable,
                         ::testing::ValuesIn(interop_target_names([](const ExpectedFlags& f) {
                           return !f.read_only;
                         })),
                         param_name);
INSTANTIATE_TEST_SUITE_P(Servers, CApiInteropBlockStatus,
                         ::testing::ValuesIn(interop_target_names([](const ExpectedFlags& f) {
                           return !f.read_only && f.base_allocation;
                         })),
                         param_name);
INSTANTIATE_TEST_SUITE_P(Servers, CApiInteropMultiConn,
                         ::testing::ValuesIn(interop_target_names([](const ExpectedFlags& f) {
                           return !f.read_only && f.multi_conn && f.flush;
                         })),
                         param_name);
INSTANTIATE_TEST_SUITE_P(Servers, CApiInteropReadOnly,
                         ::testing::ValuesIn(interop_target_names([](const ExpectedFlags& f) {
                           return f.read_only;
                         })),
                         param_name);

}  // namespace
}  // namespace nbdref::test
