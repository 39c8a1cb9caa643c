// libnbd(3) "Callbacks and locking": callbacks run with the handle's lock
// held. A callback that calls a function changing its own handle gets -1 and
// EDEADLK instead of a deadlock; questions that only read the handle are
// answered; other handles are not affected.
#include "capi_fixture.hpp"

namespace nbdref::test {
namespace {

// What the calls made from inside a callback returned.
struct Reentry {
  nbd_handle* h = nullptr;
  nbd_handle* other = nullptr;
  std::vector<char> buf = std::vector<char>(512);
  int calls = 0;
  int64_t aio_pread = 0;
  int aio_pread_errno = 0;
  int pread = 0;
  int pread_errno = 0;
  int poll = 0;
  int poll_errno = 0;
  int notify_read = 0;
  int notify_read_errno = 0;
  int shutdown = 0;
  int shutdown_errno = 0;
  int64_t size = 0;
  int can_flush = -2;
  int is_read_only = -2;
  int in_flight = -2;
  std::string export_name{};
  std::string state{};
  int64_t other_cookie = 0;

  void try_everything() {
    ++calls;
    aio_pread = nbd_aio_pread(h, buf.data(), buf.size(), 0, NBD_NULL_COMPLETION, 0);
    aio_pread_errno = nbd_get_errno();
    pread = nbd_pread(h, buf.data(), buf.size(), 0, 0);
    pread_errno = nbd_get_errno();
    poll = nbd_poll(h, 0);
    poll_errno = nbd_get_errno();
    notify_read = nbd_aio_notify_read(h);
    notify_read_errno = nbd_get_errno();
    shutdown = nbd_shutdown(h, 0);
    shutdown_errno = nbd_get_errno();
    size = nbd_get_size(h);
    can_flush = nbd_can_flush(h);
    is_read_only = nbd_is_read_only(h);
    in_flight = nbd_aio_in_flight(h);
    if (char* name = nbd_get_export_name(h)) {
      export_name = name;
      std::free(name);
    }
    if (const char* s = nbd_connection_state(h)) state = s;
    if (other) {
      other_cookie = nbd_aio_pread(other, buf.data(), buf.size(), 0, NBD_NULL_COMPLETION, 0);
    }
  }

  void expect_refused_and_answered() const {
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(aio_pread, -1);
    EXPECT_EQ(aio_pread_errno, EDEADLK);
    EXPECT_EQ(pread, -1);
    EXPECT_EQ(pread_errno, EDEADLK);
    EXPECT_EQ(poll, -1);
    EXPECT_EQ(poll_errno, EDEADLK);
    EXPECT_EQ(notify_read, -1);
    EXPECT_EQ(notify_read_errno, EDEADLK);
    EXPECT_EQ(shutdown, -1);
    EXPECT_EQ(shutdown_errno, EDEADLK);
    EXPECT_EQ(size, int64_t{1} << 20);
    EXPECT_EQ(can_flush, 1);
    EXPECT_EQ(is_read_only, 0);
    EXPECT_GE(in_flight, 0);
    EXPECT_EQ(export_name, "");
    EXPECT_FALSE(state.empty());
  }

  static int completion(void* user_data, int*) {
    static_cast<Reentry*>(user_data)->try_everything();
    return 0;
  }
  static int chunk(void* user_data, const void*, size_t, uint64_t, unsigned, int*) {
    auto* self = static_cast<Reentry*>(user_data);
    if (self->calls == 0) self->try_everything();
    return 0;
  }
  static int extent(void* user_data, const char*, uint64_t, uint32_t*, size_t, int*) {
    auto* self = static_cast<Reentry*>(user_data);
    if (self->calls == 0) self->try_everything();
    return 0;
  }
};

TEST(CallbackReentry, CompletionCallbackGetsEdeadlkForItsOwnHandle) {
  auto h = connected_handle();
  Reentry r{.h = h.get()};
  std::vector<char> buf(4096);
  const int64_t c =
      nbd_aio_pread(h.get(), buf.data(), buf.size(), 0, {Reentry::completion, &r, nullptr}, 0);
  ASSERT_GE(c, 1) << last_error();
  EXPECT_EQ(wait_for_command(h.get(), c), 1) << last_error();
  r.expect_refused_and_answered();
  // Nothing the refused calls tried was done: the handle carries on.
  EXPECT_EQ(nbd_aio_is_ready(h.get()), 1);
  EXPECT_EQ(nbd_aio_in_flight(h.get()), 0);
  EXPECT_EQ(nbd_pread(h.get(), buf.data(), buf.size(), 0, 0), 0) << last_error();
}

TEST(CallbackReentry, ChunkAndExtentCallbacksGetEdeadlkToo) {
  auto h = new_handle();
  ASSERT_EQ(nbd_add_meta_context(h.get(), LIBNBD_CONTEXT_BASE_ALLOCATION), 0);
  ASSERT_EQ(connect_nbdkit(h.get()), 0) << last_error();
  std::vector<char> buf(4096);
  Reentry in_chunk{.h = h.get()};
  EXPECT_EQ(nbd_pread_structured(h.get(), buf.data(), buf.size(), 0,
                                 {Reentry::chunk, &in_chunk, nullptr}, 0),
            0)
      << last_error();
  in_chunk.expect_refused_and_answered();
  Reentry in_extent{.h = h.get()};
  EXPECT_EQ(nbd_block_status(h.get(), 65536, 0, {Reentry::extent, &in_extent, nullptr}, 0), 0)
      << last_error();
  in_extent.expect_refused_and_answered();
}

TEST(CallbackReentry, CallbackMayUseAnotherHandle) {
  auto h = connected_handle();
  auto other = connected_handle();
  Reentry r{.h = h.get(), .other = other.get()};
  std::vector<char> buf(4096);
  const int64_t c =
      nbd_aio_pread(h.get(), buf.data(), buf.size(), 0, {Reentry::completion, &r, nullptr}, 0);
  ASSERT_GE(c, 1) << last_error();
  EXPECT_EQ(wait_for_command(h.get(), c), 1) << last_error();
  ASSERT_GE(r.other_cookie, 1);
  EXPECT_EQ(wait_for_command(other.get(), r.other_cookie), 1) << last_error();
}

}  // namespace
}  // namespace nbdref::test
