// What the C API behaviour tests share: handles that close themselves, nbdkit
// started as the handle's own subprocess (a fresh server per test), bounded
// poll loops, and callback recorders that count calls and frees.
#pragma once

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <libnbd.h>

namespace nbdref::test {

struct HandleCloser {
  void operator()(nbd_handle* h) const { nbd_close(h); }
};
using HandlePtr = std::unique_ptr<nbd_handle, HandleCloser>;

inline HandlePtr new_handle() {
  HandlePtr h(nbd_create());
  EXPECT_NE(h, nullptr) << nbd_get_error();
  return h;
}

// A NULL-terminated argv that owns its strings.
class Argv {
 public:
  explicit Argv(std::vector<std::string> args) : args_(std::move(args)) {
    for (auto& a : args_) pointers_.push_back(a.data());
    pointers_.push_back(nullptr);
  }
  Argv(const Argv&) = delete;
  Argv& operator=(const Argv&) = delete;
  char** get() { return pointers_.data(); }

 private:
  std::vector<std::string> args_;
  std::vector<char*> pointers_;
};

// `nbdkit -s --exit-with-parent SERVER_ARGS... PLUGIN PLUGIN_ARGS...`: nbdkit
// speaking NBD on its stdin/stdout, for nbd_connect_command.
struct NbdkitCommand {
  std::vector<std::string> server_args{};
  std::string plugin = "memory";
  std::vector<std::string> plugin_args{"1M"};

  std::vector<std::string> args() const {
    std::vector<std::string> a{"nbdkit", "-s", "--exit-with-parent"};
    a.insert(a.end(), server_args.begin(), server_args.end());
    a.push_back(plugin);
    a.insert(a.end(), plugin_args.begin(), plugin_args.end());
    return a;
  }
};

inline int connect_nbdkit(nbd_handle* h, const NbdkitCommand& command = {}) {
  Argv argv(command.args());
  return nbd_connect_command(h, argv.get());
}

inline int aio_connect_nbdkit(nbd_handle* h, const NbdkitCommand& command = {}) {
  Argv argv(command.args());
  return nbd_aio_connect_command(h, argv.get());
}

// A handle connected to a fresh nbdkit; fails the test if it cannot connect.
inline HandlePtr connected_handle(const NbdkitCommand& command = {}) {
  auto h = new_handle();
  if (h) {
    EXPECT_EQ(connect_nbdkit(h.get(), command), 0) << nbd_get_error();
  }
  return h;
}

using Clock = std::chrono::steady_clock;
inline constexpr std::chrono::milliseconds kPollLimit{20000};

// Runs nbd_poll (`round_ms` at a time) until `done()` holds or `limit`
// passes; true if `done()` held. Stops early when nbd_poll fails.
template <class Done>
bool poll_until(nbd_handle* h, Done done, std::chrono::milliseconds limit = kPollLimit,
                int round_ms = 100) {
  const auto deadline = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() > deadline) return false;
    if (nbd_poll(h, round_ms) == -1) return done();
  }
  return true;
}

// Polls until the command is no longer in flight; returns what
// nbd_aio_command_completed said last (1 success, -1 failure, 0 timed out).
inline int wait_for_command(nbd_handle* h, int64_t cookie,
                            std::chrono::milliseconds limit = kPollLimit, int round_ms = 100) {
  int r = 0;
  poll_until(
      h,
      [&] {
        r = nbd_aio_command_completed(h, static_cast<uint64_t>(cookie));
        return r != 0;
      },
      limit, round_ms);
  return r;
}

// A completion callback that records what it saw and returns `returns`
// (after writing `set_error` into *error when that is not 0).
struct CompletionRecorder {
  std::atomic<int> calls{0};
  std::atomic<int> frees{0};
  std::atomic<int> seen_error{-1};
  int returns = 0;
  int set_error = 0;

  static int on_complete(void* user_data, int* error) {
    auto* self = static_cast<CompletionRecorder*>(user_data);
    ++self->calls;
    self->seen_error = *error;
    if (self->set_error != 0) *error = self->set_error;
    return self->returns;
  }
  static void on_free(void* user_data) { ++static_cast<CompletionRecorder*>(user_data)->frees; }

  nbd_completion_callback callback() { return {on_complete, this, on_free}; }
};

// Counts frees of any callback kind (used with .callback set or NULL).
struct FreeCounter {
  std::atomic<int> frees{0};
  static void on_free(void* user_data) { ++static_cast<FreeCounter*>(user_data)->frees; }
};

// A pattern that differs at every byte and between seeds.
inline std::vector<char> pattern(std::size_t n, unsigned seed) {
  std::vector<char> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<char>(seed * 131 + i * 7 + (i >> 9));
  return v;
}

inline bool all_bytes(const std::vector<char>& v, char c) {
  for (char x : v) {
    if (x != c) return false;
  }
  return true;
}

// The calling thread's errno from the library, and its message, for failures.
inline std::string last_error() {
  const char* m = nbd_get_error();
  return std::string(m ? m : "(no message)") + " [errno " + std::to_string(nbd_get_errno()) + "]";
}

}  // namespace nbdref::test
