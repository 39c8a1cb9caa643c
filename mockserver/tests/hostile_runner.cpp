#include "hostile_runner.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

namespace nbdref::mock::hostile {
namespace {

using Clock = std::chrono::steady_clock;

// Bounds a synchronous call that waits for the server without a timeout of
// its own: if the call has not returned after kWaitLimit, the socket is shut
// down under it (through a duplicate descriptor), which makes the library
// see the connection end and return. The duplicate is closed as soon as the
// call returns, so the server still sees the client hang up.
class Watchdog {
 public:
  explicit Watchdog(int fd) : dup_(fd >= 0 ? ::dup(fd) : -1) {
    thread_ = std::thread([this] {
      std::unique_lock lock(mutex_);
      if (!cv_.wait_for(lock, kWaitLimit, [this] { return done_; })) {
        fired_ = true;
        if (dup_ >= 0) ::shutdown(dup_, SHUT_RDWR);
      }
    });
  }
  ~Watchdog() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
    if (dup_ >= 0) ::close(dup_);
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  bool fired() {
    std::lock_guard lock(mutex_);
    return fired_;
  }

 private:
  int dup_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  bool fired_ = false;
  std::thread thread_;
};

struct LastError {
  int errnum;
  std::string message;
};

// A clause id cited twice in one message ("... [S-OPT-020] [S-OPT-020]"):
// the message was assembled carelessly.
std::string repeated_clause(const std::string& message) {
  std::vector<std::string> seen;
  for (std::size_t open = message.find('['); open != std::string::npos;
       open = message.find('[', open + 1)) {
    const std::size_t close = message.find(']', open);
    if (close == std::string::npos) break;
    std::string id = message.substr(open, close - open + 1);
    if (std::find(seen.begin(), seen.end(), id) != seen.end()) return id;
    seen.push_back(std::move(id));
  }
  return {};
}

LastError last_error() {
  const char* m = nbd_get_error();
  return {nbd_get_errno(), m ? m : ""};
}

bool yes(const std::string& v, bool& ok) {
  ok = v == "yes" || v == "no";
  return v == "yes";
}

std::string hex(const std::vector<std::uint8_t>& b) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < b.size() && i < 64; ++i) {
    out += digits[b[i] >> 4];
    out += digits[b[i] & 15];
  }
  if (b.size() > 64) out += "...";
  return out;
}

CallbackTally& tally(void* user_data) {
  return *static_cast<CallbackTally*>(user_data);
}

struct Callbacks {
  static int complete(void* user_data, int* error) {
    ++tally(user_data).calls;
    tally(user_data).seen_error = *error;
    return 0;  // keep the command for nbd_aio_command_completed
  }
  static int list(void* user_data, const char*, const char*) {
    ++tally(user_data).calls;
    return 0;
  }
  static int context(void* user_data, const char*) {
    ++tally(user_data).calls;
    return 0;
  }
  static int extent(void* user_data, const char*, uint64_t, uint32_t*, size_t, int*) {
    ++tally(user_data).calls;
    return 0;
  }
  static void free(void* user_data) { ++tally(user_data).frees; }
};

}  // namespace

ClientRunner::ClientRunner(nbd_handle* h, int fd)
    : h_(h), fd_(fd), debug_(std::make_shared<std::string>()) {
  nbd_set_debug(h_, true);
  nbd_set_debug_callback(h_, nbd_debug_callback{[](void* user_data, const char*, const char* msg) {
                                                  auto* log = static_cast<std::string*>(user_data);
                                                  // Keep the end of long conversations.
                                                  if (log->size() > 64 * 1024)
                                                    log->erase(0, log->size() / 2);
                                                  *log += msg;
                                                  *log += '\n';
                                                  return 0;
                                                },
                                                debug_.get(), nullptr});
}

ClientRunner::~ClientRunner() {
  if (h_) nbd_close(h_);
  if (fd_ >= 0) ::close(fd_);
}

std::string ClientRunner::debug_log() const {
  return *debug_;
}

void ClientRunner::drop_socket() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

CallbackTally* ClientRunner::counter(std::string what) {
  counters_.push_back(std::make_unique<CallbackTally>());
  counters_.back()->what = std::move(what);
  return counters_.back().get();
}

bool ClientRunner::apply(const Setting& s) {
  SCOPED_TRACE("line " + std::to_string(s.line) + ": set " + s.key + "=" + s.value);
  bool ok = true;
  int rc = 0;
  if (s.key == "request-structured-replies") {
    rc = nbd_set_request_structured_replies(h_, yes(s.value, ok));
  } else if (s.key == "request-extended-headers") {
    rc = nbd_set_request_extended_headers(h_, yes(s.value, ok));
  } else if (s.key == "opt-mode") {
    rc = nbd_set_opt_mode(h_, yes(s.value, ok));
  } else if (s.key == "full-info") {
    rc = nbd_set_full_info(h_, yes(s.value, ok));
  } else if (s.key == "request-block-size") {
    rc = nbd_set_request_block_size(h_, yes(s.value, ok));
  } else if (s.key == "meta-context") {
    rc = nbd_add_meta_context(h_, s.value.c_str());
  } else if (s.key == "export-name") {
    rc = nbd_set_export_name(h_, s.value.c_str());
  } else if (s.key == "tls") {
    ok = s.value == "disable" || s.value == "allow" || s.value == "require";
    if (ok) {
      rc = nbd_set_tls(h_, s.value == "disable" ? LIBNBD_TLS_DISABLE
                           : s.value == "allow" ? LIBNBD_TLS_ALLOW
                                                : LIBNBD_TLS_REQUIRE);
    }
  } else if (s.key == "strict" || s.key == "handshake-flags") {
    char* end = nullptr;
    const unsigned long v = std::strtoul(s.value.c_str(), &end, 0);
    ok = end && *end == '\0' && !s.value.empty();
    if (ok) {
      rc = s.key == "strict" ? nbd_set_strict_mode(h_, static_cast<uint32_t>(v))
                             : nbd_set_handshake_flags(h_, static_cast<uint32_t>(v));
    }
  } else {
    ok = false;
  }
  EXPECT_TRUE(ok) << "bad value";
  EXPECT_NE(rc, -1) << nbd_get_error();
  return ok && rc != -1;
}

void ClientRunner::check_result(const Action& a, int rc, std::uint64_t count_seen) {
  const LastError e = last_error();
  const Outcome& o = a.outcome;
  if (o.kind == Outcome::Kind::Ok) {
    EXPECT_NE(rc, -1) << "expected success, got errno " << e.errnum << ": " << e.message;
  } else {
    EXPECT_EQ(rc, -1) << "expected the call to fail with " << o.errno_name;
    if (rc == -1) {
      EXPECT_EQ(repeated_clause(e.message), "") << "a clause is cited twice in: " << e.message;
      EXPECT_EQ(e.errnum, o.errnum)
          << "errno " << e.errnum << " (" << std::strerror(e.errnum) << ") instead of "
          << o.errno_name << "; message: " << e.message;
      EXPECT_NE(e.message.find(o.substring), std::string::npos)
          << "the error \"" << e.message << "\" does not contain \"" << o.substring << "\"";
    }
  }
  if (o.count) {
    EXPECT_EQ(count_seen, *o.count) << "callback count";
  }
}

void ClientRunner::run(const Action& a) {
  SCOPED_TRACE("line " + std::to_string(a.line) + ":" + a.text);
  if (!h_) {
    ADD_FAILURE() << "the handle was already closed";
    return;
  }
  const auto started = Clock::now();
  const auto sync = [&](auto&& call) {
    Watchdog watchdog(nbd_aio_get_fd(h_));
    call();
    EXPECT_FALSE(watchdog.fired())
        << "the call did not return within " << kWaitLimit.count() << " ms";
  };
  const std::uint64_t off = a.args.size() > 0 ? a.args[0] : 0;
  const std::uint64_t len = a.args.size() > 1 ? a.args[1] : 0;
  switch (a.kind) {
    case ActionKind::Connect:
      do_connect(a);
      break;
    case ActionKind::Pread: {
      // One byte at least, so a zero-length read still passes a buffer.
      std::vector<char> buf(std::max<std::uint64_t>(len, 1), '\x55');
      int rc = 0;
      sync([&] { rc = nbd_pread(h_, buf.data(), len, off, a.flags); });
      check_result(a, rc, 0);
      if (rc != -1 && a.outcome.data) {
        std::vector<std::uint8_t> got(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(len));
        EXPECT_EQ(got, *a.outcome.data)
            << "read " << hex(got) << ", expected " << hex(*a.outcome.data);
      }
      break;
    }
    case ActionKind::Pwrite: {
      std::vector<char> buf(std::max<std::uint64_t>(len, 1), 0);
      int rc = 0;
      sync([&] { rc = nbd_pwrite(h_, buf.data(), len, off, a.flags); });
      check_result(a, rc, 0);
      break;
    }
    case ActionKind::Flush: {
      int rc = 0;
      sync([&] { rc = nbd_flush(h_, a.flags); });
      check_result(a, rc, 0);
      break;
    }
    case ActionKind::Trim: {
      int rc = 0;
      sync([&] { rc = nbd_trim(h_, len, off, a.flags); });
      check_result(a, rc, 0);
      break;
    }
    case ActionKind::Zero: {
      int rc = 0;
      sync([&] { rc = nbd_zero(h_, len, off, a.flags); });
      check_result(a, rc, 0);
      break;
    }
    case ActionKind::Cache: {
      int rc = 0;
      sync([&] { rc = nbd_cache(h_, len, off, a.flags); });
      check_result(a, rc, 0);
      break;
    }
    case ActionKind::BlockStatus: {
      CallbackTally* c = counter("block-status extent callback, line " + std::to_string(a.line));
      int rc = 0;
      sync([&] {
        rc = nbd_block_status(h_, len, off,
                              nbd_extent_callback{Callbacks::extent, c, Callbacks::free}, a.flags);
      });
      check_result(a, rc, static_cast<std::uint64_t>(c->calls.load()));
      break;
    }
    case ActionKind::AioPread:
      do_aio_pread(a);
      break;
    case ActionKind::Await:
      await(a);
      break;
    case ActionKind::Poll:
      do_poll(a);
      break;
    case ActionKind::OptGo: {
      int rc = 0;
      sync([&] { rc = nbd_opt_go(h_); });
      check_result(a, rc, 0);
      break;
    }
    case ActionKind::OptInfo: {
      int rc = 0;
      sync([&] { rc = nbd_opt_info(h_); });
      check_result(a, rc, 0);
      break;
    }
    case ActionKind::OptAbort: {
      int rc = 0;
      sync([&] { rc = nbd_opt_abort(h_); });
      check_result(a, rc, 0);
      break;
    }
    case ActionKind::OptStructuredReply: {
      int rc = 0;
      sync([&] { rc = nbd_opt_structured_reply(h_); });
      check_result(a, rc, 0);
      break;
    }
    case ActionKind::OptExtendedHeaders: {
      int rc = 0;
      sync([&] { rc = nbd_opt_extended_headers(h_); });
      check_result(a, rc, 0);
      break;
    }
    case ActionKind::OptList: {
      CallbackTally* c = counter("opt-list callback, line " + std::to_string(a.line));
      int rc = 0;
      sync([&] { rc = nbd_opt_list(h_, nbd_list_callback{Callbacks::list, c, Callbacks::free}); });
      check_result(a, rc, static_cast<std::uint64_t>(c->calls.load()));
      if (rc != -1) {
        EXPECT_EQ(rc, c->calls.load()) << "nbd_opt_list's count";
      }
      break;
    }
    case ActionKind::OptListMetaContext:
    case ActionKind::OptSetMetaContext: {
      CallbackTally* c = counter(a.name + " callback, line " + std::to_string(a.line));
      const nbd_context_callback cb{Callbacks::context, c, Callbacks::free};
      int rc = 0;
      sync([&] {
        rc = a.kind == ActionKind::OptListMetaContext ? nbd_opt_list_meta_context(h_, cb)
                                                      : nbd_opt_set_meta_context(h_, cb);
      });
      check_result(a, rc, static_cast<std::uint64_t>(c->calls.load()));
      if (rc != -1) {
        EXPECT_EQ(rc, c->calls.load()) << a.name << "'s count";
      }
      break;
    }
    case ActionKind::TlsNegotiated: {
      const int rc = nbd_get_tls_negotiated(h_);
      check_result(a, rc, rc < 0 ? 0 : static_cast<std::uint64_t>(rc));
      break;
    }
    case ActionKind::Shutdown: {
      int rc = 0;
      sync([&] { rc = nbd_shutdown(h_, a.flags); });
      check_result(a, rc, 0);
      break;
    }
    case ActionKind::Close:
      nbd_close(h_);
      h_ = nullptr;
      break;
    case ActionKind::State:
      do_state(a);
      break;
  }
  const auto took = Clock::now() - started;
  EXPECT_LT(took, kWaitLimit + std::chrono::seconds(2)) << "the action took too long";
}

void ClientRunner::do_connect(const Action& a) {
  if (fd_ < 0) {
    ADD_FAILURE() << "the socket was already given to the handle";
    return;
  }
  int rc = 0;
  {
    Watchdog watchdog(fd_);
    // The handle owns the socket from here on, whatever the outcome.
    const int fd = std::exchange(fd_, -1);
    rc = nbd_connect_socket(h_, fd);
    EXPECT_FALSE(watchdog.fired())
        << "nbd_connect_socket did not return within " << kWaitLimit.count() << " ms";
  }
  check_result(a, rc, 0);
}

bool ClientRunner::connect_succeeds() {
  if (fd_ < 0) return false;
  Watchdog watchdog(fd_);
  const int rc = nbd_connect_socket(h_, std::exchange(fd_, -1));
  EXPECT_FALSE(watchdog.fired()) << "nbd_connect_socket did not return in time";
  return rc != -1;
}

void ClientRunner::do_aio_pread(const Action& a) {
  const std::uint64_t off = a.args[0];
  const std::uint64_t len = a.args[1];
  std::vector<AioCommand*> batch;
  std::optional<LastError> submit_error;
  for (unsigned i = 0; i < a.copies; ++i) {
    aio_.push_back(std::make_unique<AioCommand>());
    AioCommand& c = *aio_.back();
    c.buffer.assign(std::max<std::uint64_t>(len, 1), '\x55');
    c.line = a.line;
    c.cookie = nbd_aio_pread(
        h_, c.buffer.data(), len, off,
        nbd_completion_callback{Callbacks::complete, &c.completion, Callbacks::free}, a.flags);
    if (c.cookie == -1) {
      submit_error = last_error();
      c.settled = true;  // never started: no completion, one free
      continue;
    }
    batch.push_back(&c);
  }
  const Outcome& o = a.outcome;
  if (submit_error) {
    // Refused at submission: that is the outcome (e.g. the handle is dead).
    EXPECT_EQ(o.kind, Outcome::Kind::Fails)
        << "nbd_aio_pread failed: errno " << submit_error->errnum << ": " << submit_error->message;
    if (o.kind == Outcome::Kind::Fails) {
      EXPECT_TRUE(batch.empty()) << "some submissions failed, others did not";
      EXPECT_EQ(submit_error->errnum, o.errnum) << submit_error->message;
      EXPECT_NE(submit_error->message.find(o.substring), std::string::npos)
          << "the error \"" << submit_error->message << "\" does not contain \"" << o.substring
          << "\"";
    }
    for (AioCommand* c : batch) c->settled = true;
    return;
  }
  if (o.kind == Outcome::Kind::Pending) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(o.pending_ms);
    while (Clock::now() < deadline) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (nbd_poll(h_, static_cast<int>(std::min<long long>(left, 50) + 1)) == -1) {
        ADD_FAILURE() << "nbd_poll failed while commands were pending: " << nbd_get_error();
        break;
      }
    }
    for (AioCommand* c : batch) {
      EXPECT_EQ(c->completion.calls.load(), 0) << "a command completed although none should";
      EXPECT_EQ(nbd_aio_command_completed(h_, static_cast<uint64_t>(c->cookie)), 0)
          << nbd_get_error();
    }
    EXPECT_GE(nbd_aio_in_flight(h_), static_cast<int>(batch.size()));
    return;
  }
  await(a);
}

void ClientRunner::await(const Action& a) {
  const Outcome& o = a.outcome;
  std::vector<AioCommand*> waiting;
  for (auto& c : aio_) {
    if (!c->settled) waiting.push_back(c.get());
  }
  if (waiting.empty()) {
    ADD_FAILURE() << "no aio command is pending";
    return;
  }
  const auto all_called = [&] {
    for (AioCommand* c : waiting) {
      if (c->completion.calls.load() == 0) return false;
    }
    return true;
  };
  const auto deadline = Clock::now() + kWaitLimit;
  while (!all_called() && Clock::now() < deadline) {
    if (nbd_poll(h_, 100) == -1) break;  // no connection left to poll
  }
  for (AioCommand* c : waiting) {
    c->settled = true;
    EXPECT_EQ(c->completion.calls.load(), 1)
        << "the completion callback of the read of line " << c->line << " ran "
        << c->completion.calls.load() << " times";
    const int r = nbd_aio_command_completed(h_, static_cast<uint64_t>(c->cookie));
    const LastError e = last_error();
    if (o.kind == Outcome::Kind::Ok) {
      EXPECT_EQ(c->completion.seen_error.load(), 0);
      EXPECT_EQ(r, 1) << "errno " << e.errnum << ": " << e.message;
    } else {
      EXPECT_EQ(c->completion.seen_error.load(), o.errnum)
          << "the completion callback saw error " << c->completion.seen_error.load();
      EXPECT_EQ(r, -1) << "nbd_aio_command_completed did not report a failure";
      if (r == -1) {
        EXPECT_EQ(repeated_clause(e.message), "") << "a clause is cited twice in: " << e.message;
        EXPECT_EQ(e.errnum, o.errnum) << e.message;
        EXPECT_NE(e.message.find(o.substring), std::string::npos)
            << "the error \"" << e.message << "\" does not contain \"" << o.substring << "\"";
      }
    }
  }
}

void ClientRunner::do_poll(const Action& a) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(a.args[0]);
  int rc = 0;
  while (Clock::now() < deadline) {
    if (nbd_aio_is_dead(h_) == 1 || nbd_aio_is_closed(h_) == 1) break;
    rc = nbd_poll(h_, 20);
    if (rc == -1) break;
  }
  check_result(a, rc, 0);
}

void ClientRunner::do_state(const Action& a) {
  const std::string& s = a.state;
  int (*is)(nbd_handle*) = nullptr;
  if (s == "created") is = nbd_aio_is_created;
  if (s == "connecting") is = nbd_aio_is_connecting;
  if (s == "negotiating") is = nbd_aio_is_negotiating;
  if (s == "ready") is = nbd_aio_is_ready;
  if (s == "processing") is = nbd_aio_is_processing;
  if (s == "dead") is = nbd_aio_is_dead;
  if (s == "closed") is = nbd_aio_is_closed;
  ASSERT_NE(is, nullptr);
  EXPECT_EQ(is(h_), 1) << "the handle is " << nbd_connection_state(h_) << ", not " << s;
}

void ClientRunner::close_and_check() {
  if (h_) {
    const auto started = Clock::now();
    nbd_close(h_);
    h_ = nullptr;
    EXPECT_LT(Clock::now() - started, kWaitLimit) << "nbd_close took too long";
  }
  for (const auto& c : aio_) {
    EXPECT_EQ(c->completion.frees.load(), 1)
        << "the completion callback of the read of line " << c->line << " was freed "
        << c->completion.frees.load() << " times";
    // Commands still in flight at nbd_close are released, not completed.
    EXPECT_LE(c->completion.calls.load(), 1);
    if (!c->settled) {
      EXPECT_EQ(c->completion.calls.load(), 0)
          << "the read of line " << c->line << " was still pending at nbd_close, yet completed";
    }
  }
  for (const auto& c : counters_) {
    EXPECT_EQ(c->frees.load(), 1) << c->what << " was freed " << c->frees.load() << " times";
  }
}

}  // namespace nbdref::mock::hostile
