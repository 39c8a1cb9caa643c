#include "transport/subprocess.hpp"

#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <string>
#include <thread>

namespace nbdref::transport {
namespace {

// How long a child gets to act on SIGTERM (flush, remove its socket) before SIGKILL.
constexpr auto kTerminateGrace = std::chrono::seconds(2);
constexpr auto kReapInterval = std::chrono::milliseconds(10);

}  // namespace

bool Subprocess::still_ours() const {
  // WNOWAIT looks without reaping; ECHILD means the application reaped it
  // itself (or ignores SIGCHLD), after which the pid is not ours to signal.
  siginfo_t info{};
  return ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0;
}

Result<void> Subprocess::kill(int signum) {
  const std::string who = "subprocess " + std::to_string(pid_);
  if (!still_ours()) return failure(ESRCH, who + " has already been reaped");
  if (::kill(pid_, signum) == -1) {
    const int err = errno;
    return failure(
        err, with_strerror("cannot send signal " + std::to_string(signum) + " to " + who, err));
  }
  return {};
}

Subprocess::~Subprocess() {
  if (!still_ours()) return;
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + kTerminateGrace;
  while (std::chrono::steady_clock::now() < deadline) {
    // Either reaped now, or (ECHILD) reaped by someone else meanwhile.
    if (::waitpid(pid_, nullptr, WNOHANG) != 0) return;
    std::this_thread::sleep_for(kReapInterval);
  }
  ::kill(pid_, SIGKILL);
  while (::waitpid(pid_, nullptr, 0) == -1 && errno == EINTR) {
  }
}

}  // namespace nbdref::transport
