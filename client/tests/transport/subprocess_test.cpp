#include "transport/subprocess.hpp"

#include <sys/wait.h>

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>

#include "test_sockets.hpp"
#include "transport/connector.hpp"
#include "transport/socket_stream.hpp"

namespace nbdref::transport {
namespace {

using State = ConnectProgress::State;
using Clock = std::chrono::steady_clock;

struct Spawned {
  std::unique_ptr<Subprocess> child;
  std::unique_ptr<Stream> stream;
};

Spawned spawn(std::vector<std::string> argv) {
  auto connector = connect_command(std::move(argv));
  const ConnectProgress progress = connector->step();
  EXPECT_EQ(progress.state, State::Connected) << progress.error.message;
  return {connector->take_subprocess(), make_socket_stream(connector->take_socket())};
}

// After reaping, the pid is no longer our child at all.
void expect_reaped(pid_t pid) {
  errno = 0;
  EXPECT_EQ(waitpid(pid, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

TEST(Subprocess, DestructorReapsAChildThatIgnoresEndOfStdin) {
  Spawned s = spawn({"sleep", "1000"});
  ASSERT_NE(s.child, nullptr);
  const pid_t pid = s.child->pid();
  s.stream.reset();  // sleep never reads, so this alone does not end it
  const auto start = Clock::now();
  s.child.reset();
  EXPECT_LT(seconds_since(start), 3.0);
  expect_reaped(pid);
}

TEST(Subprocess, DestructorKillsAChildThatIgnoresSigterm) {
  // "ready" proves the trap is in place before the destructor's SIGTERM.
  Spawned s = spawn({"sh", "-c", "trap '' TERM; echo ready; exec sleep 1000"});
  ASSERT_NE(s.child, nullptr);
  ASSERT_EQ(test::read_exactly(*s.stream, 6), "ready\n");
  const pid_t pid = s.child->pid();
  const auto start = Clock::now();
  s.child.reset();
  const double took = seconds_since(start);
  EXPECT_GE(took, 1.5);  // SIGTERM was given its grace period first
  EXPECT_LT(took, 5.0);
  expect_reaped(pid);
}

TEST(Subprocess, KillDeliversTheSignal) {
  Spawned s = spawn({"sleep", "1000"});
  ASSERT_NE(s.child, nullptr);
  const auto killed = s.child->kill(SIGKILL);
  ASSERT_TRUE(killed) << killed.error().message;
  // Look without reaping, so the destructor still has a child to reap.
  siginfo_t info{};
  ASSERT_EQ(waitid(P_PID, static_cast<id_t>(s.child->pid()), &info, WEXITED | WNOWAIT), 0);
  EXPECT_EQ(info.si_code, CLD_KILLED);
  EXPECT_EQ(info.si_status, SIGKILL);
  const pid_t pid = s.child->pid();
  s.child.reset();
  expect_reaped(pid);
}

TEST(Subprocess, KillAfterTheChildWasReapedElsewhereFailsWithEsrch) {
  Spawned s = spawn({"sleep", "1000"});
  ASSERT_NE(s.child, nullptr);
  ASSERT_TRUE(s.child->kill(SIGKILL));
  ASSERT_EQ(waitpid(s.child->pid(), nullptr, 0), s.child->pid());
  const auto killed = s.child->kill(SIGTERM);
  ASSERT_FALSE(killed);
  EXPECT_EQ(killed.error().errnum, ESRCH);
  EXPECT_NE(killed.error().message.find(std::to_string(s.child->pid())), std::string::npos)
      << killed.error().message;
  const auto start = Clock::now();
  s.child.reset();  // nothing left to reap: returns at once
  EXPECT_LT(seconds_since(start), 1.0);
}

}  // namespace
}  // namespace nbdref::transport
