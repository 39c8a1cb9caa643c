// Many commands in flight on one handle (libnbd(3) "Issuing multiple
// in-flight requests"), and one handle shared by several threads.
#include <poll.h>

#include <fstream>
#include <mutex>
#include <sstream>

#include "capi_fixture.hpp"
#include "support/nbdkit_server.hpp"
#include "support/temp_dir.hpp"

namespace nbdref::test {
namespace {

constexpr std::size_t kBlock = 4096;

// One completion slot per command: the callback records the error and
// retires the command (returns 1).
struct Slots {
  struct Slot {
    Slots* owner;
    std::atomic<int> done{0};
    std::atomic<int> error{-1};
    std::atomic<int> frees{0};
  };
  explicit Slots(std::size_t n) : slots(n) {
    for (auto& s : slots) s.owner = this;
  }
  std::vector<Slot> slots;
  std::atomic<std::size_t> completed{0};

  static int on_complete(void* user_data, int* error) {
    auto* s = static_cast<Slot*>(user_data);
    s->error = *error;
    ++s->done;
    ++s->owner->completed;
    return 1;
  }
  static void on_free(void* user_data) { ++static_cast<Slot*>(user_data)->frees; }
  nbd_completion_callback callback(std::size_t i) { return {on_complete, &slots[i], on_free}; }

  void expect_each_once_without_error() const {
    for (std::size_t i = 0; i < slots.size(); ++i) {
      ASSERT_EQ(slots[i].done, 1) << "command " << i;
      ASSERT_EQ(slots[i].error, 0) << "command " << i;
      ASSERT_EQ(slots[i].frees, 1) << "command " << i;
    }
  }
};

TEST(AioBulk, TwoThousandWritesThenTwoThousandReadsInFlight) {
  constexpr std::size_t kCommands = 2000;
  Slots writes(kCommands);
  Slots reads(kCommands);
  auto h = connected_handle({.plugin_args = {"8M"}});
  std::vector<std::vector<char>> written(kCommands);
  for (std::size_t i = 0; i < kCommands; ++i) {
    written[i] = pattern(kBlock, static_cast<unsigned>(i));
    ASSERT_GE(nbd_aio_pwrite(h.get(), written[i].data(), kBlock, i * kBlock, writes.callback(i), 0),
              1)
        << "write " << i << ": " << last_error();
  }
  EXPECT_EQ(nbd_aio_in_flight(h.get()), static_cast<int>(kCommands));
  ASSERT_TRUE(poll_until(h.get(), [&] { return writes.completed == kCommands; }))
      << writes.completed << " of " << kCommands << " writes completed";
  writes.expect_each_once_without_error();
  // Every command retired itself.
  EXPECT_EQ(nbd_aio_in_flight(h.get()), 0);
  EXPECT_EQ(nbd_aio_peek_command_completed(h.get()), -1);

  std::vector<std::vector<char>> read(kCommands, std::vector<char>(kBlock));
  for (std::size_t i = 0; i < kCommands; ++i) {
    // Backwards, so the replies' order need not match the offsets'.
    const std::size_t at = kCommands - 1 - i;
    ASSERT_GE(nbd_aio_pread(h.get(), read[at].data(), kBlock, at * kBlock, reads.callback(at), 0),
              1)
        << "read " << at << ": " << last_error();
  }
  ASSERT_TRUE(poll_until(h.get(), [&] { return reads.completed == kCommands; }))
      << reads.completed << " of " << kCommands << " reads completed";
  reads.expect_each_once_without_error();
  for (std::size_t i = 0; i < kCommands; ++i) {
    ASSERT_EQ(read[i], written[i]) << "block " << i;
  }
}

// Several threads issue asynchronous commands on one handle while another
// thread runs the caller's own poll(2) loop (nbd_aio_get_direction(3) on
// multi-threaded use).
TEST(AioBulk, ThreadsIssueWhileOneThreadPolls) {
  constexpr int kThreads = 4;
  constexpr std::size_t kPerThread = 250;
  // Per thread: its completions and buffers, alive until the handle closes.
  struct Work {
    Slots writes{kPerThread};
    Slots reads{kPerThread};
    std::vector<std::vector<char>> out{kPerThread};
    std::vector<std::vector<char>> in{kPerThread, std::vector<char>(kBlock)};
  };
  std::vector<std::unique_ptr<Work>> work;
  for (int t = 0; t < kThreads; ++t) work.push_back(std::make_unique<Work>());
  auto h = connected_handle({.plugin_args = {"8M"}});
  std::atomic<bool> stop{false};
  std::atomic<int> poll_errors{0};
  std::thread poller([&] {
    while (!stop) {
      const int fd = nbd_aio_get_fd(h.get());
      if (fd < 0) {
        ++poll_errors;
        return;
      }
      const unsigned dir = nbd_aio_get_direction(h.get());
      pollfd p{fd, 0, 0};
      if (dir & LIBNBD_AIO_DIRECTION_READ) p.events |= POLLIN;
      if (dir & LIBNBD_AIO_DIRECTION_WRITE) p.events |= POLLOUT;
      // Short: a command issued meanwhile may need POLLOUT.
      if (::poll(&p, 1, 5) <= 0) continue;
      int r = 0;
      if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
        r = nbd_aio_notify_read(h.get());
      } else if (p.revents & POLLOUT) {
        r = nbd_aio_notify_write(h.get());
      }
      if (r != 0) ++poll_errors;
    }
  });

  std::atomic<int> failures{0};
  std::mutex messages_lock;
  std::vector<std::string> messages;
  auto fail = [&](const std::string& m) {
    ++failures;
    std::lock_guard<std::mutex> g(messages_lock);
    messages.push_back(m);
  };
  auto wait_all = [](Slots& s, std::size_t n) {
    const auto deadline = Clock::now() + kPollLimit;
    while (s.completed < n && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return s.completed == n;
  };
  std::vector<std::thread> issuers;
  for (int t = 0; t < kThreads; ++t) {
    issuers.emplace_back([&, t] {
      Work& w = *work[t];
      const uint64_t base = uint64_t(t) * kPerThread * kBlock;
      for (std::size_t i = 0; i < kPerThread; ++i) {
        w.out[i] = pattern(kBlock, static_cast<unsigned>(t * 1000 + i));
        if (nbd_aio_pwrite(h.get(), w.out[i].data(), kBlock, base + i * kBlock,
                           w.writes.callback(i), 0) < 1) {
          return fail("pwrite: " + last_error());
        }
      }
      if (!wait_all(w.writes, kPerThread)) return fail("writes did not complete");
      for (std::size_t i = 0; i < kPerThread; ++i) {
        if (nbd_aio_pread(h.get(), w.in[i].data(), kBlock, base + i * kBlock, w.reads.callback(i),
                          0) < 1) {
          return fail("pread: " + last_error());
        }
      }
      if (!wait_all(w.reads, kPerThread)) return fail("reads did not complete");
      for (std::size_t i = 0; i < kPerThread; ++i) {
        if (w.writes.slots[i].error != 0 || w.reads.slots[i].error != 0 || w.in[i] != w.out[i]) {
          return fail("thread " + std::to_string(t) + " block " + std::to_string(i) + " wrong");
        }
      }
    });
  }
  for (auto& th : issuers) th.join();
  stop = true;
  poller.join();
  EXPECT_EQ(failures, 0) << (messages.empty() ? "" : messages.front());
  EXPECT_EQ(poll_errors, 0) << last_error();
  EXPECT_EQ(nbd_aio_in_flight(h.get()), 0);
}

// Synchronous and asynchronous calls mixed across threads: every call takes
// the handle's lock, so each thread sees its own data.
TEST(AioBulk, ThreadsMixSyncAndAsyncCalls) {
  constexpr int kThreads = 4;
  auto h = connected_handle({.plugin_args = {"4M"}});
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        const uint64_t off = (uint64_t(t) * 100 + i) * kBlock;
        const auto out = pattern(kBlock, static_cast<unsigned>(t * 7 + i));
        std::vector<char> in(kBlock);
        if (t % 2 == 0) {
          if (nbd_pwrite(h.get(), out.data(), kBlock, off, 0) != 0 ||
              nbd_pread(h.get(), in.data(), kBlock, off, 0) != 0) {
            ++failures;
          }
        } else {
          // Each waits with nbd_poll; another thread's poll may finish it.
          const int64_t w =
              nbd_aio_pwrite(h.get(), out.data(), kBlock, off, NBD_NULL_COMPLETION, 0);
          if (w < 1 || wait_for_command(h.get(), w, kPollLimit, 5) != 1) ++failures;
          const int64_t r = nbd_aio_pread(h.get(), in.data(), kBlock, off, NBD_NULL_COMPLETION, 0);
          if (r < 1 || wait_for_command(h.get(), r, kPollLimit, 5) != 1) ++failures;
        }
        if (in != out) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures, 0);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// C-TX-012 (proto.md "Transmission flags"): without NBD_FLAG_CAN_MULTI_CONN a
// client does not spread its requests over several connections. The handle
// knows the server's address, yet it opens one connection and sends a busy
// queue of reads and writes all on it (nbdkit's log filter records which
// connection each request arrived on).
TEST(AioBulk, WithoutMultiConnEveryRequestTravelsOnTheOneConnection) {
  constexpr std::size_t kCommands = 256;
  TempDir dir("nbdref-multi-conn");
  const std::string log = dir.file("requests.log");
  NbdkitServer::Options options;
  options.extra_args = {"--filter=log", "--filter=multi-conn"};
  options.plugin_args = {"size=4M", "multi-conn-mode=disable", "logfile=" + log};
  NbdkitServer server(options);
  auto h = new_handle();
  ASSERT_EQ(nbd_connect_unix(h.get(), server.endpoint().unix_path.c_str()), 0) << last_error();
  ASSERT_EQ(nbd_can_multi_conn(h.get()), 0);

  Slots done(kCommands);
  std::vector<std::vector<char>> buffers(kCommands, std::vector<char>(kBlock, 'x'));
  for (std::size_t i = 0; i < kCommands; ++i) {
    const int64_t c =
        i % 2 == 0
            ? nbd_aio_pwrite(h.get(), buffers[i].data(), kBlock, i * kBlock, done.callback(i), 0)
            : nbd_aio_pread(h.get(), buffers[i].data(), kBlock, i * kBlock, done.callback(i), 0);
    ASSERT_GE(c, 1) << "command " << i << ": " << last_error();
  }
  EXPECT_GT(nbd_aio_in_flight(h.get()), 1);
  ASSERT_TRUE(poll_until(h.get(), [&] { return done.completed == kCommands; }))
      << done.completed << " of " << kCommands << " commands completed";
  done.expect_each_once_without_error();
  ASSERT_EQ(nbd_shutdown(h.get(), 0), 0) << last_error();
  h.reset();

  // nbdkit logs the end of the connection once the client is gone.
  const auto deadline = Clock::now() + kPollLimit;
  while (read_text(log).find("Disconnect") == std::string::npos && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::istringstream lines(read_text(log));
  std::size_t connects = 0;
  std::size_t requests = 0;
  std::vector<std::string> elsewhere;
  for (std::string line; std::getline(lines, line);) {
    if (line.find(" Connect ") != std::string::npos) ++connects;
    const bool request =
        line.find(" Read id=") != std::string::npos || line.find(" Write id=") != std::string::npos;
    if (!request) continue;
    ++requests;
    if (line.find("connection=1 ") == std::string::npos) elsewhere.push_back(line);
  }
  EXPECT_EQ(connects, 1u) << read_text(log);
  EXPECT_EQ(requests, kCommands);
  EXPECT_TRUE(elsewhere.empty()) << elsewhere.front();
}

}  // namespace
}  // namespace nbdref::test
