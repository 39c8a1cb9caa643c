// libnbd(3) "Callbacks with int *error parameter": a chunk, extent or
// completion callback that returns -1 after writing *error changes the
// command's error; -1 without an error from a chunk or extent callback means
// EPROTO; writing *error while returning anything else has no effect, and
// neither does writing 0.
#include "capi_fixture.hpp"

namespace nbdref::test {
namespace {

// Leaves *error alone.
constexpr int kNoWrite = -1;

// What a callback does: return `returns` after writing `writes` into *error
// (unless kNoWrite). Records the *error it was given.
struct Behaviour {
  int returns = 0;
  int writes = kNoWrite;
  std::atomic<int> calls{0};
  std::atomic<int> given{-1};

  int act(int* error) {
    ++calls;
    given = *error;
    if (writes != kNoWrite) *error = writes;
    return returns;
  }
  static int chunk(void* user_data, const void*, size_t, uint64_t, unsigned, int* error) {
    return static_cast<Behaviour*>(user_data)->act(error);
  }
  static int extent(void* user_data, const char*, uint64_t, uint32_t*, size_t, int* error) {
    return static_cast<Behaviour*>(user_data)->act(error);
  }
  static int extent64(void* user_data, const char*, uint64_t, nbd_extent*, size_t, int* error) {
    return static_cast<Behaviour*>(user_data)->act(error);
  }
  static int completion(void* user_data, int* error) {
    return static_cast<Behaviour*>(user_data)->act(error);
  }
  nbd_chunk_callback chunk_cb() { return {chunk, this, nullptr}; }
  nbd_extent_callback extent_cb() { return {extent, this, nullptr}; }
  nbd_extent64_callback extent64_cb() { return {extent64, this, nullptr}; }
  nbd_completion_callback completion_cb() { return {completion, this, nullptr}; }
};

HandlePtr with_base_allocation(const NbdkitCommand& command = {}) {
  auto h = new_handle();
  EXPECT_EQ(nbd_add_meta_context(h.get(), LIBNBD_CONTEXT_BASE_ALLOCATION), 0);
  EXPECT_EQ(connect_nbdkit(h.get(), command), 0) << last_error();
  return h;
}

// Runs an aio_pread_structured whose chunk callback behaves as given; returns
// the errno the command ended with (0: success) and what the completion
// callback was given.
struct Outcome {
  int errnum;
  int completion_given;
};

Outcome structured_read(nbd_handle* h, Behaviour& chunk) {
  std::vector<char> buf(4096);
  Behaviour completion;
  const int64_t c = nbd_aio_pread_structured(h, buf.data(), buf.size(), 0, chunk.chunk_cb(),
                                             completion.completion_cb(), 0);
  EXPECT_GE(c, 1) << last_error();
  const int r = wait_for_command(h, c);
  EXPECT_NE(r, 0) << "timed out";
  EXPECT_EQ(completion.calls, 1);
  EXPECT_GE(chunk.calls, 1);
  return {r == 1 ? 0 : nbd_get_errno(), completion.given};
}

Outcome block_status(nbd_handle* h, Behaviour& extent) {
  Behaviour completion;
  const int64_t c =
      nbd_aio_block_status(h, 65536, 0, extent.extent_cb(), completion.completion_cb(), 0);
  EXPECT_GE(c, 1) << last_error();
  const int r = wait_for_command(h, c);
  EXPECT_NE(r, 0) << "timed out";
  EXPECT_EQ(completion.calls, 1);
  EXPECT_GE(extent.calls, 1);
  return {r == 1 ? 0 : nbd_get_errno(), completion.given};
}

TEST(CallbackErrors, ChunkCallbackFailingWithAnErrorFailsTheRead) {
  Behaviour chunk{.returns = -1, .writes = EBADMSG};
  auto h = connected_handle();
  const auto o = structured_read(h.get(), chunk);
  EXPECT_EQ(o.errnum, EBADMSG);
  EXPECT_EQ(o.completion_given, EBADMSG);   // the error so far, given to the completion
  EXPECT_EQ(nbd_aio_is_ready(h.get()), 1);  // only the command failed
}

TEST(CallbackErrors, ChunkCallbackFailingWithoutAnErrorGivesEproto) {
  Behaviour chunk{.returns = -1};
  auto h = connected_handle();
  EXPECT_EQ(structured_read(h.get(), chunk).errnum, EPROTO);
}

TEST(CallbackErrors, ChunkCallbackErrorIgnoredUnlessItReturnsMinusOne) {
  Behaviour chunk{.returns = 0, .writes = EBADMSG};
  auto h = connected_handle();
  const auto o = structured_read(h.get(), chunk);
  EXPECT_EQ(o.errnum, 0);
  EXPECT_EQ(o.completion_given, 0);
  EXPECT_EQ(chunk.given, 0);  // no error so far when the chunk arrived
}

TEST(CallbackErrors, ExtentCallbackFailingWithAnErrorFailsBlockStatus) {
  Behaviour extent{.returns = -1, .writes = ERANGE};
  auto h = with_base_allocation();
  const auto o = block_status(h.get(), extent);
  EXPECT_EQ(o.errnum, ERANGE);
  EXPECT_EQ(o.completion_given, ERANGE);
}

TEST(CallbackErrors, ExtentCallbackFailingWithoutAnErrorGivesEproto) {
  Behaviour extent{.returns = -1};
  auto h = with_base_allocation();
  EXPECT_EQ(block_status(h.get(), extent).errnum, EPROTO);
}

TEST(CallbackErrors, ExtentCallbackErrorIgnoredUnlessItReturnsMinusOne) {
  Behaviour extent{.returns = 0, .writes = ERANGE};
  auto h = with_base_allocation();
  EXPECT_EQ(block_status(h.get(), extent).errnum, 0);
}

TEST(CallbackErrors, SyncCallsReportTheCallbacksError) {
  Behaviour chunk{.returns = -1};
  Behaviour extent{.returns = -1, .writes = ENOMSG};
  Behaviour extent64{.returns = -1};
  Behaviour quiet{.returns = 0, .writes = ENOMSG};
  auto h = with_base_allocation();
  std::vector<char> buf(4096);
  EXPECT_EQ(nbd_pread_structured(h.get(), buf.data(), buf.size(), 0, chunk.chunk_cb(), 0), -1);
  EXPECT_EQ(nbd_get_errno(), EPROTO);
  EXPECT_EQ(nbd_block_status(h.get(), 65536, 0, extent.extent_cb(), 0), -1);
  EXPECT_EQ(nbd_get_errno(), ENOMSG);
  EXPECT_EQ(nbd_block_status_64(h.get(), 65536, 0, extent64.extent64_cb(), 0), -1);
  EXPECT_EQ(nbd_get_errno(), EPROTO);
  EXPECT_EQ(nbd_block_status_64(h.get(), 65536, 0, quiet.extent64_cb(), 0), 0) << last_error();
  // The connection is fine after each.
  EXPECT_EQ(nbd_pread(h.get(), buf.data(), buf.size(), 0, 0), 0) << last_error();
}

int64_t flush_with(nbd_handle* h, Behaviour& completion) {
  const int64_t c = nbd_aio_flush(h, completion.completion_cb(), 0);
  EXPECT_GE(c, 1) << last_error();
  return c;
}

TEST(CallbackErrors, CompletionFailingWithAnErrorFailsASuccessfulCommand) {
  Behaviour completion{.returns = -1, .writes = ENOSPC};
  auto h = connected_handle();
  const int64_t c = flush_with(h.get(), completion);
  EXPECT_EQ(wait_for_command(h.get(), c), -1);
  EXPECT_EQ(nbd_get_errno(), ENOSPC);
  EXPECT_EQ(completion.given, 0);
}

TEST(CallbackErrors, CompletionErrorIgnoredUnlessItReturnsMinusOne) {
  Behaviour completion{.returns = 0, .writes = ENOSPC};
  auto h = connected_handle();
  const int64_t c = flush_with(h.get(), completion);
  EXPECT_EQ(wait_for_command(h.get(), c), 1) << last_error();
}

TEST(CallbackErrors, CompletionFailingWithoutAnErrorLeavesSuccess) {
  Behaviour completion{.returns = -1};
  auto h = connected_handle();
  const int64_t c = flush_with(h.get(), completion);
  EXPECT_EQ(wait_for_command(h.get(), c), 1) << last_error();
}

TEST(CallbackErrors, CompletionSeesTheServersErrorAndCannotClearIt) {
  Behaviour clears{.returns = -1, .writes = 0};
  Behaviour replaces{.returns = -1, .writes = ENOMEM};
  auto h = connected_handle(
      {{"--filter=error"}, "memory", {"1M", "error-pread=EIO", "error-pread-rate=100%"}});
  std::vector<char> buf(512);
  // Writing 0 into *error "does not have an effect".
  int64_t c = nbd_aio_pread(h.get(), buf.data(), buf.size(), 0,
                            {Behaviour::completion, &clears, nullptr}, 0);
  ASSERT_GE(c, 1) << last_error();
  EXPECT_EQ(wait_for_command(h.get(), c), -1);
  EXPECT_EQ(nbd_get_errno(), EIO);
  EXPECT_EQ(clears.given, EIO);
  // A different error replaces the server's.
  c = nbd_aio_pread(h.get(), buf.data(), buf.size(), 0, replaces.completion_cb(), 0);
  ASSERT_GE(c, 1) << last_error();
  EXPECT_EQ(wait_for_command(h.get(), c), -1);
  EXPECT_EQ(nbd_get_errno(), ENOMEM);
}

}  // namespace
}  // namespace nbdref::test
