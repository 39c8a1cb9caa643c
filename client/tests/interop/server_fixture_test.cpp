// Smoke tests of the server fixtures the interop tests stand on: each real
// server starts, greets with fixed newstyle (proto.md "Newstyle negotiation"),
// serves what its options say, and leaves no process behind, whether the test
// stops it or dies without doing so.
#include <poll.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/nbd_server_daemon.hpp"
#include "support/nbdkit_server.hpp"
#include "support/process_group.hpp"
#include "support/qemu_nbd_server.hpp"
#include "support/temp_dir.hpp"
#include "wire/constants.hpp"
#include "wire/handshake.hpp"
#include "wire/limits.hpp"
#include "wire/option_request.hpp"

namespace nbdref::test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;

// Reads exactly `n` bytes: servers may send even the 18-byte greeting in
// several pieces (nbd-server writes the magic first).
std::vector<std::uint8_t> read_exactly(int fd, std::size_t n) {
  std::vector<std::uint8_t> buffer(n);
  std::size_t have = 0;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (have < n) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) == 0) {
      throw std::runtime_error("timed out after " + std::to_string(have) + " of " +
                               std::to_string(n) + " bytes");
    }
    ssize_t got = ::read(fd, buffer.data() + have, n - have);
    if (got == 0) throw std::runtime_error("server closed the connection");
    if (got < 0 && errno != EINTR) throw std::runtime_error("read failed");
    if (got > 0) have += static_cast<std::size_t>(got);
  }
  return buffer;
}

void write_all(int fd, const std::vector<std::uint8_t>& bytes) {
  ASSERT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
}

wire::NewstyleGreeting read_greeting(int fd) {
  auto greeting = wire::decode_newstyle_greeting(read_exactly(fd, wire::NEWSTYLE_GREETING_SIZE));
  if (!greeting) throw std::runtime_error(greeting.error().to_string());
  return *greeting;
}

void expect_fixed_newstyle_greeting(const Endpoint& endpoint) {
  transport::UniqueFd fd = connect_to(endpoint);
  wire::NewstyleGreeting greeting = read_greeting(fd.get());
  EXPECT_TRUE(greeting.handshake_flags & wire::NBD_FLAG_FIXED_NEWSTYLE)
      << "handshake flags " << greeting.handshake_flags << " from " << endpoint.describe();
}

// The oldest way into transmission, NBD_OPT_EXPORT_NAME, which every server
// here supports: its reply carries the export size and transmission flags.
wire::ExportNameReply export_name_handshake(const Endpoint& endpoint, std::string_view name) {
  transport::UniqueFd fd = connect_to(endpoint);
  const bool no_zeroes = read_greeting(fd.get()).handshake_flags & wire::NBD_FLAG_NO_ZEROES;
  std::vector<std::uint8_t> out;
  wire::Writer w(out);
  wire::encode_client_flags(
      wire::NBD_FLAG_C_FIXED_NEWSTYLE | (no_zeroes ? wire::NBD_FLAG_C_NO_ZEROES : 0u), w);
  wire::encode_option_request(wire::NBD_OPT_EXPORT_NAME, wire::as_bytes(name), w);
  write_all(fd.get(), out);
  auto reply = wire::decode_export_name_reply(
      read_exactly(fd.get(), wire::EXPORT_NAME_REPLY_SIZE + (no_zeroes ? 0 : 124)));
  if (!reply) throw std::runtime_error(reply.error().to_string());
  return *reply;
}

// Runs `start` in a forked copy of this test process, which reports the pid
// it is given and then dies without stopping anything, as a crashed or
// timed-out test would. Returns the reported pid (-1 if the start failed).
pid_t pid_left_by_dying_test(const std::function<void(const std::function<void(pid_t)>&)>& start) {
  TempDir parent_tmp("nbdref-orphan");
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(fds[0]);
    // The dying process cannot remove its servers' directories; putting them
    // under parent_tmp lets this process do it.
    ::setenv("TMPDIR", parent_tmp.path().c_str(), 1);
    auto report_and_die = [&](pid_t pid) {
      [[maybe_unused]] auto written = ::write(fds[1], &pid, sizeof pid);
      ::_exit(0);
    };
    try {
      start(report_and_die);
    } catch (const std::exception&) {
    }
    report_and_die(-1);
  }
  ::close(fds[1]);
  pid_t pid = -1;
  [[maybe_unused]] auto got = ::read(fds[0], &pid, sizeof pid);
  ::close(fds[0]);
  ::waitpid(child, nullptr, 0);
  return pid;
}

bool gone_within(pid_t pid, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (process_is_alive(pid) || !live_group_members(pid).empty()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

TEST(TempDir, IsRemovedWithEverythingInIt) {
  std::string path;
  {
    TempDir dir;
    path = dir.path();
    dir.create_sparse_file("image", kMiB);
    EXPECT_EQ(std::filesystem::file_size(dir.file("image")), kMiB);
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

// ---- nbdkit ----

TEST(NbdkitServer, GreetsOnUnixSocketAndStopsCompletely) {
  NbdkitServer server;
  ASSERT_TRUE(server.endpoint().is_unix());
  expect_fixed_newstyle_greeting(server.endpoint());
  const pid_t pid = server.pid();
  EXPECT_TRUE(server.stop());
  EXPECT_FALSE(process_is_alive(pid));
}

TEST(NbdkitServer, GreetsOnTcpAndStopsCompletely) {
  NbdkitServer server({.transport = Transport::Tcp});
  ASSERT_FALSE(server.endpoint().is_unix());
  EXPECT_EQ(server.endpoint().host, "127.0.0.1");
  expect_fixed_newstyle_greeting(server.endpoint());
  const pid_t pid = server.pid();
  EXPECT_TRUE(server.stop());
  EXPECT_FALSE(process_is_alive(pid));
}

TEST(NbdkitServer, ServesAnyExportNameWithTheOptionsGiven) {
  NbdkitServer server({.read_only = true});
  auto reply = export_name_handshake(server.endpoint(), "whatever-the-test-likes");
  EXPECT_EQ(reply.export_size, NbdkitServer::kDefaultMemorySize);
  EXPECT_TRUE(reply.transmission_flags & wire::NBD_FLAG_READ_ONLY);
}

TEST(NbdkitServer, TwoAtOnceGetDifferentPorts) {
  NbdkitServer first({.transport = Transport::Tcp});
  NbdkitServer second({.transport = Transport::Tcp});
  EXPECT_NE(first.endpoint().port, second.endpoint().port);
  expect_fixed_newstyle_greeting(first.endpoint());
  expect_fixed_newstyle_greeting(second.endpoint());
}

TEST(NbdkitServer, FailureToStartIsReportedPromptlyWithItsOutput) {
  const auto started = std::chrono::steady_clock::now();
  try {
    NbdkitServer server({.plugin = "nbdref-no-such-plugin", .plugin_args = {}});
    FAIL() << "nbdkit started without its plugin";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("exited with status"));
    EXPECT_THAT(e.what(), HasSubstr("nbdkit -f --exit-with-parent -U "));
    EXPECT_THAT(e.what(), HasSubstr("cannot open plugin 'nbdref-no-such-plugin'"));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
}

TEST(NbdkitServer, DiesWithATestThatDoesNotStopIt) {
  pid_t pid = pid_left_by_dying_test([](const auto& report) {
    NbdkitServer server;
    report(server.pid());
  });
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(gone_within(pid, 3s));
}

// ---- qemu-nbd ----

TEST(QemuNbdServer, GreetsOnUnixSocketAndStopsCompletely) {
  QemuNbdServer server;
  ASSERT_TRUE(server.endpoint().is_unix());
  expect_fixed_newstyle_greeting(server.endpoint());
  const pid_t pid = server.pid();
  EXPECT_TRUE(server.stop());
  EXPECT_FALSE(process_is_alive(pid));
}

TEST(QemuNbdServer, GreetsOnTcpAndStopsCompletely) {
  QemuNbdServer server({.transport = Transport::Tcp});
  ASSERT_FALSE(server.endpoint().is_unix());
  expect_fixed_newstyle_greeting(server.endpoint());
  const pid_t pid = server.pid();
  EXPECT_TRUE(server.stop());
  EXPECT_FALSE(process_is_alive(pid));
}

TEST(QemuNbdServer, ServesItsImageWithTheOptionsGiven) {
  QemuNbdServer server({.size = 8 * kMiB, .export_name = "img", .read_only = true});
  EXPECT_EQ(server.size(), 8 * kMiB);
  auto reply = export_name_handshake(server.endpoint(), "img");
  EXPECT_EQ(reply.export_size, 8 * kMiB);
  EXPECT_TRUE(reply.transmission_flags & wire::NBD_FLAG_READ_ONLY);
}

TEST(QemuNbdServer, TwoAtOnceGetDifferentPorts) {
  QemuNbdServer first({.transport = Transport::Tcp});
  QemuNbdServer second({.transport = Transport::Tcp});
  EXPECT_NE(first.endpoint().port, second.endpoint().port);
  expect_fixed_newstyle_greeting(first.endpoint());
  expect_fixed_newstyle_greeting(second.endpoint());
}

TEST(QemuNbdServer, DiesWithATestThatDoesNotStopIt) {
  pid_t pid = pid_left_by_dying_test([](const auto& report) {
    QemuNbdServer server;
    report(server.pid());
  });
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(gone_within(pid, 3s));
}

// ---- nbd-server ----

TEST(NbdServerDaemon, GreetsOnTcpAndStopsWithItsClientChildren) {
  NbdServerDaemon server;
  ASSERT_FALSE(server.endpoint().is_unix());
  // A connected client keeps a forked child of the daemon alive during stop().
  transport::UniqueFd client = connect_to(server.endpoint());
  read_greeting(client.get());
  expect_fixed_newstyle_greeting(server.endpoint());
  const pid_t daemon = server.daemon_pid();
  ASSERT_GT(daemon, 0);
  EXPECT_GT(live_group_members(daemon).size(), 1u);
  EXPECT_TRUE(server.stop());
  EXPECT_FALSE(process_is_alive(daemon));
  EXPECT_TRUE(live_group_members(daemon).empty());
}

TEST(NbdServerDaemon, GreetsOnUnixSocketAndStopsCompletely) {
  NbdServerDaemon server({.transport = Transport::UnixSocket});
  ASSERT_TRUE(server.endpoint().is_unix());
  expect_fixed_newstyle_greeting(server.endpoint());
  const pid_t daemon = server.daemon_pid();
  EXPECT_TRUE(server.stop());
  EXPECT_FALSE(process_is_alive(daemon));
}

TEST(NbdServerDaemon, ServesEachExportWithItsOwnFlags) {
  NbdServerDaemon server({.exports = {{.name = "fast", .trim = true, .flush = true, .fua = true},
                                      {.name = "frozen", .size = kMiB, .read_only = true}}});
  auto fast = export_name_handshake(server.endpoint(), "fast");
  EXPECT_EQ(fast.export_size, server.exports()[0].size);
  EXPECT_FALSE(fast.transmission_flags & wire::NBD_FLAG_READ_ONLY);
  EXPECT_TRUE(fast.transmission_flags & wire::NBD_FLAG_SEND_TRIM);
  EXPECT_TRUE(fast.transmission_flags & wire::NBD_FLAG_SEND_FLUSH);
  EXPECT_TRUE(fast.transmission_flags & wire::NBD_FLAG_SEND_FUA);

  auto frozen = export_name_handshake(server.endpoint(), "frozen");
  EXPECT_EQ(frozen.export_size, kMiB);
  EXPECT_TRUE(frozen.transmission_flags & wire::NBD_FLAG_READ_ONLY);
  EXPECT_FALSE(frozen.transmission_flags & wire::NBD_FLAG_SEND_TRIM);
  EXPECT_FALSE(frozen.transmission_flags & wire::NBD_FLAG_SEND_FLUSH);
  EXPECT_FALSE(frozen.transmission_flags & wire::NBD_FLAG_SEND_FUA);
}

TEST(NbdServerDaemon, TwoAtOnceGetDifferentPorts) {
  NbdServerDaemon first;
  NbdServerDaemon second;
  EXPECT_NE(first.endpoint().port, second.endpoint().port);
  expect_fixed_newstyle_greeting(first.endpoint());
  expect_fixed_newstyle_greeting(second.endpoint());
}

TEST(NbdServerDaemon, DiesWithATestThatDoesNotStopIt) {
  pid_t daemon = pid_left_by_dying_test([](const auto& report) {
    NbdServerDaemon server;
    report(server.daemon_pid());
  });
  ASSERT_GT(daemon, 0);
  EXPECT_TRUE(gone_within(daemon, 3s));
}

}  // namespace
}  // namespace nbdref::test
