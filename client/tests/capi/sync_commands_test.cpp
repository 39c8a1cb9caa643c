// Synchronous commands (nbd_pread(3) ... nbd_cache(3)) and what the server
// said about the export (nbd_get_size(3), nbd_is_read_only(3), nbd_can_*(3),
// nbd_is_rotational(3)).
#include "capi_fixture.hpp"

namespace nbdref::test {
namespace {

constexpr int64_t kSize = int64_t{1} << 20;

TEST(SyncCommands, PwriteThenPreadRoundTrip) {
  auto h = connected_handle();
  const auto out = pattern(300000, 9);
  ASSERT_EQ(nbd_pwrite(h.get(), out.data(), out.size(), 4096, 0), 0) << last_error();
  std::vector<char> in(out.size());
  ASSERT_EQ(nbd_pread(h.get(), in.data(), in.size(), 4096, 0), 0) << last_error();
  EXPECT_EQ(in, out);
  ASSERT_EQ(nbd_pwrite(h.get(), out.data(), 4096, 0, LIBNBD_CMD_FLAG_FUA), 0) << last_error();
}

TEST(SyncCommands, PreadStructuredCallsBackAtLeastOnceAndFillsTheBuffer) {
  auto h = connected_handle();
  const auto out = pattern(65536, 3);
  ASSERT_EQ(nbd_pwrite(h.get(), out.data(), out.size(), 0, 0), 0) << last_error();
  struct Seen {
    int calls = 0;
    uint64_t bytes = 0;
    static int cb(void* user_data, const void*, size_t count, uint64_t, unsigned, int*) {
      auto* self = static_cast<Seen*>(user_data);
      ++self->calls;
      self->bytes += count;
      return 0;
    }
  } seen;
  std::vector<char> in(out.size());
  ASSERT_EQ(nbd_pread_structured(h.get(), in.data(), in.size(), 0, {Seen::cb, &seen, nullptr},
                                 LIBNBD_CMD_FLAG_DF),
            0)
      << last_error();
  EXPECT_GE(seen.calls, 1);
  EXPECT_EQ(seen.bytes, in.size());
  EXPECT_EQ(in, out);
}

TEST(SyncCommands, FlushSucceeds) {
  auto h = connected_handle();
  EXPECT_EQ(nbd_flush(h.get(), 0), 0) << last_error();
}

TEST(SyncCommands, TrimAndZeroReadBackAsZeroes) {
  auto h = connected_handle();
  const auto out = pattern(192 * 1024, 4);
  ASSERT_EQ(nbd_pwrite(h.get(), out.data(), out.size(), 0, 0), 0) << last_error();
  ASSERT_EQ(nbd_trim(h.get(), 65536, 0, 0), 0) << last_error();
  ASSERT_EQ(nbd_zero(h.get(), 65536, 131072, LIBNBD_CMD_FLAG_NO_HOLE), 0) << last_error();
  std::vector<char> in(out.size());
  ASSERT_EQ(nbd_pread(h.get(), in.data(), in.size(), 0, 0), 0) << last_error();
  auto expected = out;
  std::fill_n(expected.begin(), 65536, 0);
  std::fill_n(expected.begin() + 131072, 65536, 0);
  EXPECT_EQ(in, expected);
}

TEST(SyncCommands, CacheSucceeds) {
  auto h = connected_handle();
  EXPECT_EQ(nbd_cache(h.get(), 65536, 0, 0), 0) << last_error();
}

TEST(SyncCommands, NullBufferIsEfault) {
  auto h = connected_handle();
  EXPECT_EQ(nbd_pread(h.get(), nullptr, 512, 0, 0), -1);
  EXPECT_EQ(nbd_get_errno(), EFAULT);
  EXPECT_EQ(nbd_pwrite(h.get(), nullptr, 512, 0, 0), -1);
  EXPECT_EQ(nbd_get_errno(), EFAULT);
}

// nbd_pread(3): "libnbd currently enforces a maximum read buffer of 64MiB
// ... attempts to exceed this will result in an ERANGE error."
TEST(SyncCommands, MoreThan64MiBIsErange) {
  auto h = connected_handle({.plugin_args = {"128M"}});
  std::vector<char> buf((64 << 20) + 512);
  EXPECT_EQ(nbd_pread(h.get(), buf.data(), buf.size(), 0, 0), -1);
  EXPECT_EQ(nbd_get_errno(), ERANGE) << last_error();
  EXPECT_EQ(nbd_pwrite(h.get(), buf.data(), buf.size(), 0, 0), -1);
  EXPECT_EQ(nbd_get_errno(), ERANGE) << last_error();
  EXPECT_EQ(nbd_pread(h.get(), buf.data(), 64 << 20, 0, 0), 0) << last_error();
}

TEST(SyncCommands, RefusedBeforeConnectingAndAfterShutdown) {
  auto h = new_handle();
  std::vector<char> buf(512);
  EXPECT_EQ(nbd_pread(h.get(), buf.data(), 512, 0, 0), -1);
  EXPECT_EQ(nbd_get_errno(), ENOTCONN);
  EXPECT_EQ(nbd_flush(h.get(), 0), -1);
  EXPECT_EQ(nbd_get_errno(), ENOTCONN);
  ASSERT_EQ(connect_nbdkit(h.get()), 0) << last_error();
  ASSERT_EQ(nbd_shutdown(h.get(), 0), 0) << last_error();
  EXPECT_EQ(nbd_pread(h.get(), buf.data(), 512, 0, 0), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_trim(h.get(), 512, 0, 0), -1);
  EXPECT_EQ(nbd_zero(h.get(), 512, 0, 0), -1);
  EXPECT_EQ(nbd_cache(h.get(), 512, 0, 0), -1);
}

// ---- what the server said about the export ----

TEST(ExportFlags, NbdkitMemoryOffersEverything) {
  auto h = connected_handle();
  EXPECT_EQ(nbd_get_size(h.get()), kSize);
  EXPECT_EQ(nbd_is_read_only(h.get()), 0);
  EXPECT_EQ(nbd_can_flush(h.get()), 1);
  EXPECT_EQ(nbd_can_fua(h.get()), 1);
  EXPECT_EQ(nbd_can_trim(h.get()), 1);
  EXPECT_EQ(nbd_can_zero(h.get()), 1);
  EXPECT_EQ(nbd_can_fast_zero(h.get()), 1);
  EXPECT_EQ(nbd_can_df(h.get()), 1);
  EXPECT_EQ(nbd_can_multi_conn(h.get()), 1);
  EXPECT_EQ(nbd_can_cache(h.get()), 1);
  EXPECT_EQ(nbd_is_rotational(h.get()), 0);
}

TEST(ExportFlags, AnExportThatOffersNothing) {
  // nbdkit-eval-plugin: exit 0 means true, exit 3 false.
  auto h = connected_handle(
      {{},
       "eval",
       {"get_size=echo 2M", "pread=dd if=/dev/zero count=$3 iflag=count_bytes status=none",
        "is_rotational=exit 0", "can_write=exit 3", "can_flush=exit 3", "can_multi_conn=exit 3",
        "can_cache=echo none"}});
  EXPECT_EQ(nbd_get_size(h.get()), 2 * kSize);
  EXPECT_EQ(nbd_is_read_only(h.get()), 1);
  EXPECT_EQ(nbd_is_rotational(h.get()), 1);
  EXPECT_EQ(nbd_can_flush(h.get()), 0);
  EXPECT_EQ(nbd_can_fua(h.get()), 0);
  EXPECT_EQ(nbd_can_trim(h.get()), 0);
  EXPECT_EQ(nbd_can_zero(h.get()), 0);
  EXPECT_EQ(nbd_can_fast_zero(h.get()), 0);
  EXPECT_EQ(nbd_can_multi_conn(h.get()), 0);
  EXPECT_EQ(nbd_can_cache(h.get()), 0);
  std::vector<char> buf(4096, 1);
  EXPECT_EQ(nbd_pread(h.get(), buf.data(), buf.size(), 0, 0), 0) << last_error();
  EXPECT_TRUE(all_bytes(buf, 0));
  // What is not offered is refused locally.
  EXPECT_EQ(nbd_flush(h.get(), 0), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_cache(h.get(), 512, 0, 0), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_pwrite(h.get(), buf.data(), 512, 0, 0), -1);
  EXPECT_EQ(nbd_get_errno(), EPERM);
}

TEST(ExportFlags, UnknownBeforeConnecting) {
  auto h = new_handle();
  EXPECT_EQ(nbd_get_size(h.get()), -1);
  EXPECT_EQ(nbd_get_errno(), ENOTCONN);
  for (auto* query :
       {nbd_is_read_only, nbd_can_flush, nbd_can_fua, nbd_is_rotational, nbd_can_trim, nbd_can_zero,
        nbd_can_fast_zero, nbd_can_df, nbd_can_multi_conn, nbd_can_cache}) {
    EXPECT_EQ(query(h.get()), -1);
    EXPECT_EQ(nbd_get_errno(), ENOTCONN);
  }
}

// The nbd_*(3) pages list "shut down" among the states where what the
// handshake learned may still be asked.
TEST(ExportFlags, StillKnownAfterShutdown) {
  auto h = new_handle();
  ASSERT_EQ(nbd_add_meta_context(h.get(), LIBNBD_CONTEXT_BASE_ALLOCATION), 0);
  ASSERT_EQ(connect_nbdkit(h.get()), 0) << last_error();
  ASSERT_EQ(nbd_shutdown(h.get(), 0), 0) << last_error();
  ASSERT_EQ(nbd_aio_is_closed(h.get()), 1);
  EXPECT_EQ(nbd_get_size(h.get()), kSize) << last_error();
  EXPECT_EQ(nbd_is_read_only(h.get()), 0) << last_error();
  EXPECT_EQ(nbd_can_flush(h.get()), 1) << last_error();
  EXPECT_EQ(nbd_can_fua(h.get()), 1) << last_error();
  EXPECT_EQ(nbd_can_trim(h.get()), 1) << last_error();
  EXPECT_EQ(nbd_can_zero(h.get()), 1) << last_error();
  EXPECT_EQ(nbd_can_fast_zero(h.get()), 1) << last_error();
  EXPECT_EQ(nbd_can_df(h.get()), 1) << last_error();
  EXPECT_EQ(nbd_can_multi_conn(h.get()), 1) << last_error();
  EXPECT_EQ(nbd_can_cache(h.get()), 1) << last_error();
  EXPECT_EQ(nbd_is_rotational(h.get()), 0) << last_error();
  EXPECT_EQ(nbd_can_meta_context(h.get(), LIBNBD_CONTEXT_BASE_ALLOCATION), 1) << last_error();
  EXPECT_STREQ(nbd_get_protocol(h.get()), "newstyle-fixed") << last_error();
  EXPECT_GE(nbd_get_block_size(h.get(), LIBNBD_SIZE_PREFERRED), 0) << last_error();
  EXPECT_EQ(nbd_get_structured_replies_negotiated(h.get()), 1) << last_error();
  EXPECT_EQ(nbd_get_tls_negotiated(h.get()), 0) << last_error();
}

}  // namespace
}  // namespace nbdref::test
