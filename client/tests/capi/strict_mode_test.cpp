// nbd_set_strict_mode(3): with a LIBNBD_STRICT_* bit set, a request the bit
// covers fails locally, without any traffic; with the bit cleared the request
// goes to the server, which answers with its own error. Whether a request
// left is seen in nbd_stats_chunks_sent.
#include "capi_fixture.hpp"

namespace nbdref::test {
namespace {

constexpr int64_t kSize = int64_t{1} << 20;

HandlePtr connect_strict(uint32_t strict, const NbdkitCommand& command = {}) {
  auto h = new_handle();
  EXPECT_EQ(nbd_set_strict_mode(h.get(), strict), 0);
  EXPECT_EQ(connect_nbdkit(h.get(), command), 0) << last_error();
  return h;
}

// Runs `call`, which must fail with `errnum`; returns how many requests it
// sent.
template <class Call>
uint64_t fails_with(nbd_handle* h, int errnum, Call call) {
  const uint64_t before = nbd_stats_chunks_sent(h);
  EXPECT_EQ(call(), -1);
  EXPECT_EQ(nbd_get_errno(), errnum) << last_error();
  return nbd_stats_chunks_sent(h) - before;
}

// The connection is still usable after a refused request.
void expect_usable(nbd_handle* h) {
  std::vector<char> buf(512);
  EXPECT_EQ(nbd_pread(h, buf.data(), buf.size(), 0, 0), 0) << last_error();
}

TEST(StrictMode, EverythingByDefaultAndChangeableAtAnyTime) {
  auto h = new_handle();
  EXPECT_EQ(nbd_get_strict_mode(h.get()), LIBNBD_STRICT_MASK);
  EXPECT_EQ(nbd_set_strict_mode(h.get(), LIBNBD_STRICT_MASK + 1), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_get_strict_mode(h.get()), LIBNBD_STRICT_MASK);
  ASSERT_EQ(connect_nbdkit(h.get()), 0) << last_error();
  ASSERT_EQ(nbd_set_strict_mode(h.get(), LIBNBD_STRICT_MASK & ~LIBNBD_STRICT_BOUNDS), 0);
  EXPECT_EQ(nbd_get_strict_mode(h.get()), LIBNBD_STRICT_MASK & ~LIBNBD_STRICT_BOUNDS);
  ASSERT_EQ(nbd_set_strict_mode(h.get(), 0), 0);
  EXPECT_EQ(nbd_get_strict_mode(h.get()), 0u);
}

// ---- LIBNBD_STRICT_COMMANDS: what the server did not advertise ----

TEST(StrictCommands, WriteToAReadOnlyExport) {
  const NbdkitCommand read_only{.server_args = {"-r"}};
  const auto data = pattern(512, 1);
  auto strict = connect_strict(LIBNBD_STRICT_MASK, read_only);
  ASSERT_EQ(nbd_is_read_only(strict.get()), 1);
  EXPECT_EQ(fails_with(strict.get(), EPERM,
                       [&] { return nbd_pwrite(strict.get(), data.data(), 512, 0, 0); }),
            0u);
  EXPECT_EQ(fails_with(strict.get(), EPERM, [&] { return nbd_trim(strict.get(), 512, 0, 0); }), 0u);
  auto relaxed = connect_strict(LIBNBD_STRICT_MASK & ~LIBNBD_STRICT_COMMANDS, read_only);
  EXPECT_EQ(fails_with(relaxed.get(), EPERM,
                       [&] { return nbd_pwrite(relaxed.get(), data.data(), 512, 0, 0); }),
            1u);
  expect_usable(relaxed.get());
}

TEST(StrictCommands, FuaWithoutServerSupport) {
  // nbdkit-fua-filter(1) advertises no FUA by default.
  const NbdkitCommand no_fua{{"--filter=fua"}, "memory", {"1M"}};
  const auto data = pattern(512, 2);
  auto strict = connect_strict(LIBNBD_STRICT_MASK, no_fua);
  ASSERT_EQ(nbd_can_fua(strict.get()), 0);
  EXPECT_EQ(fails_with(
                strict.get(), EINVAL,
                [&] { return nbd_pwrite(strict.get(), data.data(), 512, 0, LIBNBD_CMD_FLAG_FUA); }),
            0u);
  auto relaxed = connect_strict(LIBNBD_STRICT_MASK & ~LIBNBD_STRICT_COMMANDS, no_fua);
  EXPECT_EQ(fails_with(relaxed.get(), EINVAL,
                       [&] {
                         return nbd_pwrite(relaxed.get(), data.data(), 512, 0, LIBNBD_CMD_FLAG_FUA);
                       }),
            1u);
  expect_usable(relaxed.get());
}

// ---- LIBNBD_STRICT_FLAGS: flags unknown, or foreign to the command ----

TEST(StrictFlags, UnknownFlag) {
  std::vector<char> buf(512);
  auto strict = connect_strict(LIBNBD_STRICT_MASK);
  EXPECT_EQ(fails_with(strict.get(), EINVAL,
                       [&] { return nbd_pread(strict.get(), buf.data(), 512, 0, 0x100); }),
            0u);
  auto relaxed = connect_strict(LIBNBD_STRICT_MASK & ~LIBNBD_STRICT_FLAGS);
  EXPECT_EQ(fails_with(relaxed.get(), EINVAL,
                       [&] { return nbd_pread(relaxed.get(), buf.data(), 512, 0, 0x100); }),
            1u);
  expect_usable(relaxed.get());
}

TEST(StrictFlags, FlagsBeyondSixteenBitsAreAlwaysRefused) {
  std::vector<char> buf(512);
  auto relaxed = connect_strict(0);
  EXPECT_EQ(fails_with(relaxed.get(), EINVAL,
                       [&] { return nbd_pread(relaxed.get(), buf.data(), 512, 0, 0x10000); }),
            0u);
  expect_usable(relaxed.get());
}

// ---- LIBNBD_STRICT_BOUNDS: past the end of the export ----

TEST(StrictBounds, ReadPastTheEnd) {
  std::vector<char> buf(1024);
  auto strict = connect_strict(LIBNBD_STRICT_MASK);
  EXPECT_EQ(fails_with(strict.get(), EINVAL,
                       [&] { return nbd_pread(strict.get(), buf.data(), 1024, kSize - 512, 0); }),
            0u);
  auto relaxed = connect_strict(LIBNBD_STRICT_MASK & ~LIBNBD_STRICT_BOUNDS);
  EXPECT_EQ(fails_with(relaxed.get(), EINVAL,
                       [&] { return nbd_pread(relaxed.get(), buf.data(), 1024, kSize - 512, 0); }),
            1u);
  expect_usable(relaxed.get());
}

// ---- LIBNBD_STRICT_ZERO_SIZE: length 0 ----

TEST(StrictZeroSize, ZeroLengthRequest) {
  std::vector<char> buf(1);
  auto strict = connect_strict(LIBNBD_STRICT_MASK);
  EXPECT_EQ(fails_with(strict.get(), EINVAL,
                       [&] { return nbd_pread(strict.get(), buf.data(), 0, 0, 0); }),
            0u);
  EXPECT_EQ(fails_with(strict.get(), EINVAL, [&] { return nbd_trim(strict.get(), 0, 0, 0); }), 0u);
  auto relaxed = connect_strict(LIBNBD_STRICT_MASK & ~LIBNBD_STRICT_ZERO_SIZE);
  const uint64_t before = nbd_stats_chunks_sent(relaxed.get());
  // Sent: whatever the server makes of it (the result is undefined).
  nbd_pread(relaxed.get(), buf.data(), 0, 0, 0);
  EXPECT_EQ(nbd_stats_chunks_sent(relaxed.get()) - before, 1u);
  expect_usable(relaxed.get());
}

// ---- LIBNBD_STRICT_ALIGN: the server's minimum block size ----

TEST(StrictAlign, UnalignedRequest) {
  const NbdkitCommand aligned{{"--filter=blocksize-policy"},
                              "memory",
                              {"1M", "blocksize-minimum=512", "blocksize-error-policy=error"}};
  std::vector<char> buf(512);
  auto strict = connect_strict(LIBNBD_STRICT_MASK, aligned);
  ASSERT_EQ(nbd_get_block_size(strict.get(), LIBNBD_SIZE_MINIMUM), 512);
  EXPECT_EQ(fails_with(strict.get(), EINVAL,
                       [&] { return nbd_pread(strict.get(), buf.data(), 511, 1, 0); }),
            0u);
  auto relaxed = connect_strict(LIBNBD_STRICT_MASK & ~LIBNBD_STRICT_ALIGN, aligned);
  EXPECT_EQ(fails_with(relaxed.get(), EINVAL,
                       [&] { return nbd_pread(relaxed.get(), buf.data(), 511, 1, 0); }),
            1u);
  expect_usable(relaxed.get());
}

}  // namespace
}  // namespace nbdref::test
