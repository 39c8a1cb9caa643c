// Ending a connection: nbd_shutdown(3) (with and without
// LIBNBD_SHUTDOWN_ABANDON_PENDING), nbd_kill_subprocess(3) and nbd_close(3).
#include <signal.h>
#include <sys/types.h>

#include <fstream>

#include "capi_fixture.hpp"
#include "support/nbdkit_server.hpp"
#include "support/temp_dir.hpp"

namespace nbdref::test {
namespace {

constexpr std::size_t kRegion = 1 << 20;

// nbdkit on a Unix socket; its memory outlives each connection, so a second
// handle sees what the first one wrote.
NbdkitServer shared_memory_server() {
  NbdkitServer::Options o;
  o.plugin_args = {"size=16M"};
  return NbdkitServer(o);
}

HandlePtr connect_to_server(const NbdkitServer& server) {
  auto h = new_handle();
  EXPECT_EQ(nbd_connect_unix(h.get(), server.endpoint().unix_path.c_str()), 0) << last_error();
  return h;
}

bool server_has(const NbdkitServer& server, uint64_t offset, const std::vector<char>& data) {
  auto h = connect_to_server(server);
  std::vector<char> back(data.size());
  EXPECT_EQ(nbd_pread(h.get(), back.data(), back.size(), offset, 0), 0) << last_error();
  return back == data;
}

// Each command sent before the disconnect ended either well or, if the
// server stranded it, with ENOTCONN (nbd_aio_in_flight(3)).
int expect_done_or_enotconn(nbd_handle* h, int64_t cookie) {
  const int r = nbd_aio_command_completed(h, static_cast<uint64_t>(cookie));
  if (r == -1) {
    EXPECT_EQ(nbd_get_errno(), ENOTCONN) << last_error();
  }
  EXPECT_NE(r, 0) << "cookie " << cookie << " still in flight after shutdown";
  return r;
}

// A command abandoned unsent ended with some error (nbd_shutdown(3) names
// none), or well if it had been sent after all.
int expect_done_or_failed(nbd_handle* h, int64_t cookie) {
  const int r = nbd_aio_command_completed(h, static_cast<uint64_t>(cookie));
  if (r == -1) {
    EXPECT_NE(nbd_get_errno(), 0) << last_error();
  }
  EXPECT_NE(r, 0) << "cookie " << cookie << " still in flight after shutdown";
  return r;
}

TEST(Shutdown, QueuedCommandsAreSentBeforeTheDisconnect) {
  auto server = shared_memory_server();
  auto h = connect_to_server(server);
  std::vector<std::vector<char>> data;
  std::vector<int64_t> cookies;
  for (unsigned i = 0; i < 4; ++i) {
    data.push_back(pattern(256 * 1024, i + 1));
    cookies.push_back(nbd_aio_pwrite(h.get(), data[i].data(), data[i].size(), i * kRegion,
                                     NBD_NULL_COMPLETION, 0));
    ASSERT_GE(cookies.back(), 1) << last_error();
  }
  ASSERT_EQ(nbd_shutdown(h.get(), 0), 0) << last_error();
  EXPECT_EQ(nbd_aio_is_closed(h.get()), 1) << nbd_connection_state(h.get());
  for (int64_t c : cookies) expect_done_or_enotconn(h.get(), c);
  for (unsigned i = 0; i < 4; ++i) EXPECT_TRUE(server_has(server, i * kRegion, data[i])) << i;
}

TEST(Shutdown, AbandonPendingDropsWhatWasNotSent) {
  auto server = shared_memory_server();
  auto h = connect_to_server(server);
  constexpr unsigned kWrites = 16;
  std::vector<std::vector<char>> data;
  std::vector<int64_t> cookies;
  for (unsigned i = 0; i < kWrites; ++i) {
    data.push_back(pattern(kRegion, i + 1));
    cookies.push_back(
        nbd_aio_pwrite(h.get(), data[i].data(), kRegion, i * kRegion, NBD_NULL_COMPLETION, 0));
    ASSERT_GE(cookies.back(), 1) << last_error();
  }
  ASSERT_EQ(nbd_shutdown(h.get(), LIBNBD_SHUTDOWN_ABANDON_PENDING), 0) << last_error();
  EXPECT_EQ(nbd_aio_is_closed(h.get()), 1) << nbd_connection_state(h.get());
  std::vector<int> results;
  for (int64_t c : cookies) results.push_back(expect_done_or_failed(h.get(), c));
  // 16 MiB cannot all have left before the shutdown: the last write at least
  // was abandoned, never reaching the server.
  EXPECT_EQ(results.back(), -1);
  EXPECT_FALSE(server_has(server, (kWrites - 1) * kRegion, data.back()));
  // What reported success did reach it.
  for (unsigned i = 0; i < kWrites; ++i) {
    if (results[i] == 1) {
      EXPECT_TRUE(server_has(server, i * kRegion, data[i])) << i;
    }
  }
}

TEST(Shutdown, WorksWhileNegotiating) {
  auto h = new_handle();
  ASSERT_EQ(nbd_set_opt_mode(h.get(), true), 0);
  ASSERT_EQ(connect_nbdkit(h.get()), 0) << last_error();
  ASSERT_EQ(nbd_aio_is_negotiating(h.get()), 1);
  EXPECT_EQ(nbd_shutdown(h.get(), 0), 0) << last_error();
  EXPECT_EQ(nbd_aio_is_closed(h.get()), 1) << nbd_connection_state(h.get());
}

TEST(Shutdown, RefusedBeforeConnecting) {
  auto h = new_handle();
  EXPECT_EQ(nbd_shutdown(h.get(), 0), -1);
  EXPECT_EQ(nbd_get_errno(), ENOTCONN);
  EXPECT_EQ(nbd_aio_is_created(h.get()), 1);
}

// nbd_shutdown(3), HANDLE STATE: "The handle must be connected with the
// server, otherwise this call will return an error."
TEST(Shutdown, RefusedOnceClosed) {
  auto h = connected_handle();
  ASSERT_EQ(nbd_shutdown(h.get(), 0), 0) << last_error();
  EXPECT_EQ(nbd_shutdown(h.get(), 0), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_aio_is_closed(h.get()), 1);
}

TEST(Shutdown, UnknownFlagsAreEinval) {
  auto h = connected_handle();
  EXPECT_EQ(nbd_shutdown(h.get(), 1), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_shutdown(h.get(), LIBNBD_SHUTDOWN_MASK << 1), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_aio_is_ready(h.get()), 1);
}

// ---- nbd_kill_subprocess ----

pid_t read_pid(const std::string& pidfile) {
  pid_t pid = 0;
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (pid <= 0 && Clock::now() < deadline) {
    std::ifstream(pidfile) >> pid;
    if (pid <= 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pid;
}

// Gone, or a zombie waiting for the library to reap it.
bool process_ended(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  std::string line;
  std::getline(stat, line);
  const auto paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z';
}

// nbdkit may notice the signal only when it next reads a request: it then
// answers NBD_ESHUTDOWN, to which a client must answer with a disconnect
// (proto.md "Terminating the transmission phase"). So keep using, then
// polling, the handle until the connection ends -- which is also how the
// handle notices that the server has gone.
void expect_server_dies_and_handle_notices(nbd_handle* h, pid_t pid) {
  std::vector<char> buf(512);
  const auto limit = std::chrono::seconds(10);
  const auto deadline = Clock::now() + limit;
  auto ended = [&] { return nbd_aio_is_dead(h) == 1 || nbd_aio_is_closed(h) == 1; };
  while (!ended() && Clock::now() < deadline) {
    const int64_t c = nbd_aio_pread(h, buf.data(), buf.size(), 0, NBD_NULL_COMPLETION, 0);
    if (c == -1) {
      poll_until(h, ended, limit);
      break;
    }
    wait_for_command(h, c, std::chrono::seconds(2));
  }
  ASSERT_TRUE(ended()) << "the handle never noticed; state " << nbd_connection_state(h);
  EXPECT_EQ(nbd_pread(h, buf.data(), buf.size(), 0, 0), -1);
  while (!process_ended(pid) && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(process_ended(pid)) << "pid " << pid;
}

TEST(KillSubprocess, SignalZeroMeansSigterm) {
  TempDir dir("nbdref-capi");
  const auto pidfile = dir.file("nbdkit.pid");
  auto h = new_handle();
  ASSERT_EQ(connect_nbdkit(h.get(), {.server_args = {"--pidfile", pidfile}}), 0) << last_error();
  const pid_t pid = read_pid(pidfile);
  ASSERT_GT(pid, 0);
  ASSERT_FALSE(process_ended(pid));
  ASSERT_EQ(nbd_kill_subprocess(h.get(), 0), 0) << last_error();
  expect_server_dies_and_handle_notices(h.get(), pid);
  h.reset();
  EXPECT_EQ(kill(pid, 0), -1);  // reaped by nbd_close
  EXPECT_EQ(errno, ESRCH);
}

TEST(KillSubprocess, ChosenSignal) {
  TempDir dir("nbdref-capi");
  const auto pidfile = dir.file("nbdkit.pid");
  auto h = new_handle();
  ASSERT_EQ(connect_nbdkit(h.get(), {.server_args = {"--pidfile", pidfile}}), 0) << last_error();
  const pid_t pid = read_pid(pidfile);
  ASSERT_GT(pid, 0);
  ASSERT_EQ(nbd_kill_subprocess(h.get(), SIGKILL), 0) << last_error();
  expect_server_dies_and_handle_notices(h.get(), pid);
}

TEST(KillSubprocess, WithoutASubprocessIsAnError) {
  auto created = new_handle();
  EXPECT_EQ(nbd_kill_subprocess(created.get(), 0), -1);
  EXPECT_NE(nbd_get_errno(), 0);
  NbdkitServer::Options o;
  o.plugin_args = {"size=1M"};
  NbdkitServer server(o);
  auto h = connect_to_server(server);
  EXPECT_EQ(nbd_kill_subprocess(h.get(), 0), -1);
  EXPECT_NE(nbd_get_errno(), 0);
  EXPECT_EQ(nbd_aio_is_ready(h.get()), 1);
  EXPECT_EQ(server.pid() > 0 && kill(server.pid(), 0) == 0, true);  // untouched
}

}  // namespace
}  // namespace nbdref::test
