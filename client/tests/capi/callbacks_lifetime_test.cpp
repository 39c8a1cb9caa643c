// Callback lifetimes (libnbd(3) "CALLBACKS"): every .free runs exactly once
// -- after success, after failure, when the call itself fails, and when the
// handle closes with commands in flight (then the completion callback is not
// called at all) -- and a completion callback returning 1 retires its command.
#include "capi_fixture.hpp"

namespace nbdref::test {
namespace {

// nbdkit holding every read (and block status) back for 10 seconds.
const NbdkitCommand kSlowServer{
    {"--filter=delay"}, "memory", {"1M", "delay-read=10", "delay-extents=10"}};
const NbdkitCommand kFailingReads{
    {"--filter=error"}, "memory", {"1M", "error-pread=EIO", "error-pread-rate=100%"}};

struct Called {
  std::atomic<int> calls{0};
  std::atomic<int> frees{0};
  static void on_free(void* user_data) { ++static_cast<Called*>(user_data)->frees; }
  static int chunk(void* user_data, const void*, size_t, uint64_t, unsigned, int*) {
    ++static_cast<Called*>(user_data)->calls;
    return 0;
  }
  static int extent(void* user_data, const char*, uint64_t, uint32_t*, size_t, int*) {
    ++static_cast<Called*>(user_data)->calls;
    return 0;
  }
  static int extent64(void* user_data, const char*, uint64_t, nbd_extent*, size_t, int*) {
    ++static_cast<Called*>(user_data)->calls;
    return 0;
  }
  static int list(void* user_data, const char*, const char*) {
    ++static_cast<Called*>(user_data)->calls;
    return 0;
  }
  static int context(void* user_data, const char*) {
    ++static_cast<Called*>(user_data)->calls;
    return 0;
  }
  static int debug(void* user_data, const char*, const char*) {
    ++static_cast<Called*>(user_data)->calls;
    return 0;
  }
  nbd_chunk_callback chunk_cb() { return {chunk, this, on_free}; }
  nbd_extent_callback extent_cb() { return {extent, this, on_free}; }
  nbd_extent64_callback extent64_cb() { return {extent64, this, on_free}; }
  nbd_list_callback list_cb() { return {list, this, on_free}; }
  nbd_context_callback context_cb() { return {context, this, on_free}; }
  nbd_debug_callback debug_cb() { return {debug, this, on_free}; }
};

HandlePtr with_base_allocation(const NbdkitCommand& command = {}) {
  auto h = new_handle();
  EXPECT_EQ(nbd_add_meta_context(h.get(), LIBNBD_CONTEXT_BASE_ALLOCATION), 0);
  EXPECT_EQ(connect_nbdkit(h.get(), command), 0) << last_error();
  return h;
}

TEST(CallbackLifetime, EachFreedOnceAfterSuccess) {
  CompletionRecorder c1, c2, c3, c4;
  Called chunk, extent, extent64;
  auto h = with_base_allocation();
  std::vector<char> buf(8192);
  const int64_t cookies[] = {
      nbd_aio_pread(h.get(), buf.data(), 4096, 0, c1.callback(), 0),
      nbd_aio_pread_structured(h.get(), buf.data() + 4096, 4096, 0, chunk.chunk_cb(), c2.callback(),
                               0),
      nbd_aio_block_status(h.get(), 65536, 0, extent.extent_cb(), c3.callback(), 0),
      nbd_aio_block_status_64(h.get(), 65536, 0, extent64.extent64_cb(), c4.callback(), 0),
  };
  for (int64_t c : cookies) {
    ASSERT_GE(c, 1) << last_error();
    EXPECT_EQ(wait_for_command(h.get(), c), 1) << last_error();
  }
  for (auto* c : {&c1, &c2, &c3, &c4}) {
    EXPECT_EQ(c->calls, 1);
    EXPECT_EQ(c->frees, 1);
  }
  for (auto* c : {&chunk, &extent, &extent64}) {
    EXPECT_GE(c->calls, 1);
    EXPECT_EQ(c->frees, 1);
  }
  h.reset();  // nothing is freed twice at close
  for (auto* c : {&c1, &c2, &c3, &c4}) EXPECT_EQ(c->frees, 1);
  for (auto* c : {&chunk, &extent, &extent64}) EXPECT_EQ(c->frees, 1);
}

TEST(CallbackLifetime, EachFreedOnceAfterFailure) {
  CompletionRecorder c1, c2;
  Called chunk;
  auto h = connected_handle(kFailingReads);
  std::vector<char> buf(8192);
  const int64_t a = nbd_aio_pread(h.get(), buf.data(), 4096, 0, c1.callback(), 0);
  const int64_t b = nbd_aio_pread_structured(h.get(), buf.data() + 4096, 4096, 0, chunk.chunk_cb(),
                                             c2.callback(), 0);
  ASSERT_GE(a, 1) << last_error();
  ASSERT_GE(b, 1) << last_error();
  EXPECT_EQ(wait_for_command(h.get(), a), -1);
  EXPECT_EQ(nbd_get_errno(), EIO);
  EXPECT_EQ(wait_for_command(h.get(), b), -1);
  EXPECT_EQ(nbd_get_errno(), EIO);
  EXPECT_EQ(c1.calls, 1);
  EXPECT_EQ(c1.seen_error, EIO);
  EXPECT_EQ(c2.calls, 1);
  EXPECT_EQ(c1.frees, 1);
  EXPECT_EQ(c2.frees, 1);
  EXPECT_EQ(chunk.frees, 1);
  h.reset();
  EXPECT_EQ(c1.frees, 1);
  EXPECT_EQ(c2.frees, 1);
  EXPECT_EQ(chunk.frees, 1);
}

TEST(CallbackLifetime, SyncCallbacksFreedOnceWhenTheCallReturns) {
  Called chunk, extent, extent64;
  auto h = with_base_allocation();
  std::vector<char> buf(4096);
  ASSERT_EQ(nbd_pread_structured(h.get(), buf.data(), buf.size(), 0, chunk.chunk_cb(), 0), 0)
      << last_error();
  ASSERT_EQ(nbd_block_status(h.get(), 65536, 0, extent.extent_cb(), 0), 0) << last_error();
  ASSERT_EQ(nbd_block_status_64(h.get(), 65536, 0, extent64.extent64_cb(), 0), 0) << last_error();
  for (auto* c : {&chunk, &extent, &extent64}) {
    EXPECT_GE(c->calls, 1);
    EXPECT_EQ(c->frees, 1);
  }
}

// "including in the case where the API fails" (libnbd(3) "Callback lifetimes").
TEST(CallbackLifetime, FreedOnceWhenTheCallFailsEarly) {
  auto created = new_handle();
  auto ready = with_base_allocation();
  std::vector<char> buf(4096);
  std::vector<std::unique_ptr<CompletionRecorder>> completions;
  std::vector<std::unique_ptr<Called>> others;
  auto completion = [&] {
    completions.push_back(std::make_unique<CompletionRecorder>());
    return completions.back()->callback();
  };
  auto other = [&] {
    others.push_back(std::make_unique<Called>());
    return others.back().get();
  };
  nbd_handle* c = created.get();
  nbd_handle* r = ready.get();

  // A NULL buffer or callback.
  EXPECT_EQ(nbd_aio_pread(r, nullptr, 512, 0, completion(), 0), -1);
  EXPECT_EQ(nbd_get_errno(), EFAULT);
  EXPECT_EQ(nbd_aio_pwrite(r, nullptr, 512, 0, completion(), 0), -1);
  EXPECT_EQ(nbd_get_errno(), EFAULT);
  EXPECT_EQ(nbd_aio_pread_structured(r, nullptr, 512, 0, other()->chunk_cb(), completion(), 0), -1);
  EXPECT_EQ(nbd_get_errno(), EFAULT);
  EXPECT_EQ(nbd_aio_pread_structured(r, buf.data(), 512, 0, {nullptr, other(), Called::on_free},
                                     completion(), 0),
            -1);
  EXPECT_EQ(nbd_get_errno(), EFAULT);
  EXPECT_EQ(nbd_aio_block_status(r, 512, 0, {nullptr, other(), Called::on_free}, completion(), 0),
            -1);
  EXPECT_EQ(nbd_get_errno(), EFAULT);
  EXPECT_EQ(
      nbd_aio_block_status_64(r, 512, 0, {nullptr, other(), Called::on_free}, completion(), 0), -1);
  EXPECT_EQ(nbd_get_errno(), EFAULT);

  // Flags the command does not know.
  EXPECT_EQ(nbd_aio_pread(r, buf.data(), 512, 0, completion(), 0x100), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_aio_pwrite(r, buf.data(), 512, 0, completion(), 0x100), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_aio_flush(r, completion(), 0x100), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_aio_trim(r, 512, 0, completion(), 0x100), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_aio_cache(r, 512, 0, completion(), 0x100), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_aio_zero(r, 512, 0, completion(), 0x100), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(
      nbd_aio_pread_structured(r, buf.data(), 512, 0, other()->chunk_cb(), completion(), 0x100),
      -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_aio_block_status(r, 512, 0, other()->extent_cb(), completion(), 0x100), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_aio_block_status_64(r, 512, 0, other()->extent64_cb(), completion(), 0x100), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_pread_structured(r, buf.data(), 512, 0, other()->chunk_cb(), 0x100), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_block_status(r, 512, 0, other()->extent_cb(), 0x100), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_block_status_64(r, 512, 0, other()->extent64_cb(), 0x100), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);

  // The wrong state: not connected yet.
  EXPECT_EQ(nbd_aio_pread(c, buf.data(), 512, 0, completion(), 0), -1);
  EXPECT_EQ(nbd_get_errno(), ENOTCONN);
  EXPECT_EQ(nbd_aio_pwrite(c, buf.data(), 512, 0, completion(), 0), -1);
  EXPECT_EQ(nbd_aio_flush(c, completion(), 0), -1);
  EXPECT_EQ(nbd_aio_trim(c, 512, 0, completion(), 0), -1);
  EXPECT_EQ(nbd_aio_cache(c, 512, 0, completion(), 0), -1);
  EXPECT_EQ(nbd_aio_zero(c, 512, 0, completion(), 0), -1);
  EXPECT_EQ(nbd_aio_pread_structured(c, buf.data(), 512, 0, other()->chunk_cb(), completion(), 0),
            -1);
  EXPECT_EQ(nbd_aio_block_status(c, 512, 0, other()->extent_cb(), completion(), 0), -1);
  EXPECT_EQ(nbd_aio_block_status_64(c, 512, 0, other()->extent64_cb(), completion(), 0), -1);
  EXPECT_EQ(nbd_pread_structured(c, buf.data(), 512, 0, other()->chunk_cb(), 0), -1);
  EXPECT_EQ(nbd_block_status(c, 512, 0, other()->extent_cb(), 0), -1);
  EXPECT_EQ(nbd_block_status_64(c, 512, 0, other()->extent64_cb(), 0), -1);
  // Options outside option mode's negotiating state.
  EXPECT_EQ(nbd_opt_list(c, other()->list_cb()), -1);
  EXPECT_EQ(nbd_opt_list(r, other()->list_cb()), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_opt_list_meta_context(r, other()->context_cb()), -1);
  EXPECT_EQ(nbd_opt_set_meta_context(r, other()->context_cb()), -1);
  EXPECT_EQ(nbd_aio_opt_go(r, completion()), -1);
  EXPECT_EQ(nbd_aio_opt_info(r, completion()), -1);
  EXPECT_EQ(nbd_aio_opt_list(r, other()->list_cb(), completion()), -1);
  EXPECT_EQ(nbd_aio_opt_list_meta_context(r, other()->context_cb(), completion()), -1);
  EXPECT_EQ(nbd_aio_opt_set_meta_context(r, other()->context_cb(), completion()), -1);
  EXPECT_EQ(nbd_aio_opt_structured_reply(r, completion()), -1);
  EXPECT_EQ(nbd_aio_opt_extended_headers(r, completion()), -1);

  for (std::size_t i = 0; i < completions.size(); ++i) {
    EXPECT_EQ(completions[i]->calls, 0) << "completion " << i;
    EXPECT_EQ(completions[i]->frees, 1) << "completion " << i;
  }
  for (std::size_t i = 0; i < others.size(); ++i) {
    EXPECT_EQ(others[i]->calls, 0) << "callback " << i;
    EXPECT_EQ(others[i]->frees, 1) << "callback " << i;
  }
  // Both handles are unharmed.
  EXPECT_EQ(nbd_aio_is_created(c), 1);
  EXPECT_EQ(nbd_aio_is_ready(r), 1);
  EXPECT_EQ(nbd_aio_in_flight(r), 0);
}

// nbd_close(3) with commands in flight: their completion callbacks are not
// called, but every .free is.
TEST(CallbackLifetime, CloseWithCommandsInFlightFreesWithoutCalling) {
  CompletionRecorder c1, c2, c3, c4;
  Called chunk, extent, extent64;
  FreeCounter null_callback;
  auto h = with_base_allocation(kSlowServer);
  std::vector<char> buf(8192);
  ASSERT_GE(nbd_aio_pread(h.get(), buf.data(), 4096, 0, c1.callback(), 0), 1) << last_error();
  ASSERT_GE(nbd_aio_pread_structured(h.get(), buf.data() + 4096, 4096, 0, chunk.chunk_cb(),
                                     c2.callback(), 0),
            1)
      << last_error();
  ASSERT_GE(nbd_aio_block_status(h.get(), 4096, 0, extent.extent_cb(), c3.callback(), 0), 1)
      << last_error();
  ASSERT_GE(nbd_aio_block_status_64(h.get(), 4096, 0, extent64.extent64_cb(), c4.callback(), 0), 1)
      << last_error();
  ASSERT_GE(nbd_aio_flush(h.get(), {nullptr, &null_callback, FreeCounter::on_free}, 0), 1);
  // Let the requests reach the server, which holds the replies back.
  for (int i = 0; i < 5; ++i) nbd_poll(h.get(), 10);
  ASSERT_GE(nbd_aio_in_flight(h.get()), 4);
  h.reset();
  for (auto* c : {&c1, &c2, &c3, &c4}) {
    EXPECT_EQ(c->calls, 0);
    EXPECT_EQ(c->frees, 1);
  }
  for (auto* c : {&chunk, &extent, &extent64}) {
    EXPECT_EQ(c->calls, 0);
    EXPECT_EQ(c->frees, 1);
  }
  EXPECT_EQ(null_callback.frees, 1);
}

TEST(CallbackLifetime, NullCallbackWithFreeIsFreedOnceAndNeverCalled) {
  FreeCounter freed;
  auto h = connected_handle();
  std::vector<char> buf(512);
  const int64_t c =
      nbd_aio_pread(h.get(), buf.data(), buf.size(), 0, {nullptr, &freed, FreeCounter::on_free}, 0);
  ASSERT_GE(c, 1) << last_error();
  // Without a completion callback the command waits to be retired.
  EXPECT_EQ(wait_for_command(h.get(), c), 1) << last_error();
  h.reset();
  EXPECT_EQ(freed.frees, 1);
}

TEST(CallbackLifetime, CompletionReturningOneRetiresTheCommand) {
  CompletionRecorder retires;
  auto h = connected_handle();
  std::vector<char> buf(512);
  retires.returns = 1;
  const int64_t c = nbd_aio_pread(h.get(), buf.data(), buf.size(), 0, retires.callback(), 0);
  ASSERT_GE(c, 1) << last_error();
  ASSERT_TRUE(poll_until(h.get(), [&] { return retires.calls == 1; }));
  EXPECT_EQ(nbd_aio_in_flight(h.get()), 0);
  EXPECT_EQ(nbd_aio_peek_command_completed(h.get()), -1);  // nothing left to retire
  EXPECT_EQ(nbd_aio_command_completed(h.get(), c), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(retires.frees, 1);
}

TEST(CallbackLifetime, CompletionReturningZeroLeavesTheCommandToRetire) {
  CompletionRecorder keeps;
  auto h = connected_handle();
  std::vector<char> buf(512);
  const int64_t c = nbd_aio_pread(h.get(), buf.data(), buf.size(), 0, keeps.callback(), 0);
  ASSERT_GE(c, 1) << last_error();
  ASSERT_TRUE(poll_until(h.get(), [&] { return keeps.calls == 1; }));
  EXPECT_EQ(nbd_aio_peek_command_completed(h.get()), c);
  EXPECT_EQ(nbd_aio_command_completed(h.get(), c), 1);
  EXPECT_EQ(keeps.frees, 1);
}

TEST(CallbackLifetime, OptionCallbacksFreedOnce) {
  Called list, meta, set_meta, aio_list, aio_meta, aio_set_meta;
  CompletionRecorder done_list, done_meta, done_set_meta, done_info;
  auto h = new_handle();
  ASSERT_EQ(nbd_set_opt_mode(h.get(), true), 0);
  ASSERT_EQ(connect_nbdkit(h.get()), 0) << last_error();
  EXPECT_GE(nbd_opt_list(h.get(), list.list_cb()), 0) << last_error();
  EXPECT_EQ(list.frees, 1);
  EXPECT_GE(nbd_opt_list_meta_context(h.get(), meta.context_cb()), 0) << last_error();
  EXPECT_EQ(meta.frees, 1);
  ASSERT_EQ(nbd_add_meta_context(h.get(), LIBNBD_CONTEXT_BASE_ALLOCATION), 0);
  EXPECT_GE(nbd_opt_set_meta_context(h.get(), set_meta.context_cb()), 0) << last_error();
  EXPECT_EQ(set_meta.frees, 1);

  auto negotiating = [&] { return nbd_aio_is_negotiating(h.get()) == 1; };
  ASSERT_EQ(nbd_aio_opt_list(h.get(), aio_list.list_cb(), done_list.callback()), 0);
  ASSERT_TRUE(poll_until(h.get(), negotiating));
  ASSERT_EQ(nbd_aio_opt_list_meta_context(h.get(), aio_meta.context_cb(), done_meta.callback()), 0);
  ASSERT_TRUE(poll_until(h.get(), negotiating));
  ASSERT_EQ(
      nbd_aio_opt_set_meta_context(h.get(), aio_set_meta.context_cb(), done_set_meta.callback()),
      0);
  ASSERT_TRUE(poll_until(h.get(), negotiating));
  ASSERT_EQ(nbd_aio_opt_info(h.get(), done_info.callback()), 0);
  ASSERT_TRUE(poll_until(h.get(), negotiating));
  for (auto* c : {&aio_list, &aio_meta, &aio_set_meta}) EXPECT_EQ(c->frees, 1);
  for (auto* c : {&done_list, &done_meta, &done_set_meta, &done_info}) {
    EXPECT_EQ(c->calls, 1);
    EXPECT_EQ(c->frees, 1);
  }
  h.reset();
  for (auto* c : {&list, &meta, &set_meta, &aio_list, &aio_meta, &aio_set_meta}) {
    EXPECT_EQ(c->frees, 1);
  }
}

TEST(CallbackLifetime, AioOptionInFlightAtCloseIsFreedNotCalled) {
  Called list;
  CompletionRecorder done;
  auto h = new_handle();
  ASSERT_EQ(nbd_set_opt_mode(h.get(), true), 0);
  ASSERT_EQ(connect_nbdkit(h.get()), 0) << last_error();
  ASSERT_EQ(nbd_aio_opt_list(h.get(), list.list_cb(), done.callback()), 0) << last_error();
  h.reset();  // the reply was never read
  EXPECT_EQ(list.calls, 0);
  EXPECT_EQ(done.calls, 0);
  EXPECT_EQ(list.frees, 1);
  EXPECT_EQ(done.frees, 1);
}

TEST(CallbackLifetime, DebugCallbackFreedWhenReplacedClearedOrClosed) {
  Called first, second, third;
  {
    auto h = new_handle();
    ASSERT_EQ(nbd_set_debug_callback(h.get(), first.debug_cb()), 0);
    ASSERT_EQ(nbd_set_debug_callback(h.get(), second.debug_cb()), 0);
    EXPECT_EQ(first.frees, 1);
    ASSERT_EQ(nbd_clear_debug_callback(h.get()), 0);
    EXPECT_EQ(second.frees, 1);
    ASSERT_EQ(nbd_set_debug_callback(h.get(), third.debug_cb()), 0);
    EXPECT_EQ(third.frees, 0);
  }
  EXPECT_EQ(first.frees, 1);
  EXPECT_EQ(second.frees, 1);
  EXPECT_EQ(third.frees, 1);
}

}  // namespace
}  // namespace nbdref::test
