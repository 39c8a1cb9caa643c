// Runs the client side of a hostile-server script: applies the `#@ set`
// settings to a libnbd-compatible handle, performs the `#@ do` actions with
// bounded waits, and checks each outcome and `#@ state` with GoogleTest
// assertions. Every callback handed to the library is counted: completion
// callbacks must run exactly once for each command that completed (never
// for one still in flight when the handle closes), and every .free exactly
// once by the time the handle is closed.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <libnbd.h>

#include "hostile_header.hpp"

namespace nbdref::mock::hostile {

// The longest any single wait of the driver may take.
inline constexpr std::chrono::milliseconds kWaitLimit{10'000};

// What happened to one callback handed to the library.
struct CallbackTally {
  std::atomic<int> calls{0};
  std::atomic<int> frees{0};
  std::atomic<int> seen_error{-1};  // completion callbacks: *error
  std::string what;
};

class ClientRunner {
 public:
  // `fd` is the client's end of the server's socket; the runner owns it
  // until `connect` hands it to the handle.
  ClientRunner(nbd_handle* h, int fd);
  ~ClientRunner();
  ClientRunner(const ClientRunner&) = delete;
  ClientRunner& operator=(const ClientRunner&) = delete;

  // False (with a test failure) when the library refused the setting.
  bool apply(const Setting& s);
  void run(const Action& a);
  // nbd_close unless an action closed the handle already; then checks that
  // every callback was freed exactly once.
  void close_and_check();

  bool closed() const { return h_ == nullptr; }
  // The handle is ready, processing or negotiating: it got past the handshake.
  bool usable() const {
    return h_ && (nbd_aio_is_ready(h_) == 1 || nbd_aio_is_processing(h_) == 1 ||
                  nbd_aio_is_negotiating(h_) == 1);
  }
  // nbd_connect_socket with a bounded wait, for scripts whose outcome is
  // only "the connection must not be established".
  bool connect_succeeds();
  // Gives up the socket without connecting (a caller that refused to go on).
  void drop_socket();
  // What the library's debug callback said, for failure messages.
  std::string debug_log() const;

 private:
  struct AioCommand {
    std::vector<char> buffer;
    CallbackTally completion;
    std::int64_t cookie = -1;
    bool settled = false;  // its outcome was checked (or it never started)
    std::size_t line = 0;
  };
  void check_result(const Action& a, int rc, std::uint64_t count_seen);
  void do_connect(const Action& a);
  void do_aio_pread(const Action& a);
  void await(const Action& a);
  void do_poll(const Action& a);
  void do_state(const Action& a);
  CallbackTally* counter(std::string what);

  nbd_handle* h_;
  int fd_;
  std::vector<std::unique_ptr<AioCommand>> aio_;
  // Callbacks of synchronous calls: counted, and freed exactly once.
  std::vector<std::unique_ptr<CallbackTally>> counters_;
  std::shared_ptr<std::string> debug_;
};

}  // namespace nbdref::mock::hostile
