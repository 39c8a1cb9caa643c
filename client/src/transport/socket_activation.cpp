#include "transport/socket_activation.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <limits>
#include <string_view>

#include "transport/unique_fd.hpp"

namespace nbdref::transport {
namespace {

// SD_LISTEN_FDS_START: where the protocol puts the first passed socket.
constexpr int kListenFd = 3;
constexpr char kListenPid[] = "LISTEN_PID=";
// Enough characters for any pid_t in decimal.
constexpr std::size_t kPidDigits = std::numeric_limits<pid_t>::digits10 + 1;

// Everything the child needs, built before fork: in a threaded program the
// child may only make async-signal-safe calls until it execs, so it can
// neither allocate nor format a number with the C library.
class ExecPlan {
 public:
  explicit ExecPlan(std::vector<std::string> argv) : argv_(std::move(argv)) {
    for (std::string& arg : argv_) argv_pointers_.push_back(arg.data());
    argv_pointers_.push_back(nullptr);

    // The child's pid is not known until it runs: it writes the digits over
    // these blanks itself.
    environment_.push_back(kListenPid + std::string(kPidDigits, ' '));
    environment_.push_back("LISTEN_FDS=1");
    environment_.push_back("LISTEN_FDNAMES=nbd");
    // Inherited LISTEN_* variables describe sockets this program was given,
    // not ours; passing them on could make the child use the wrong ones.
    // (clearenv() leaves environ null.)
    for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
      if (!std::string_view(*entry).starts_with("LISTEN_")) environment_.emplace_back(*entry);
    }
    for (std::string& entry : environment_) environment_pointers_.push_back(entry.data());
    environment_pointers_.push_back(nullptr);
  }
  // The pointer arrays point into the object itself.
  ExecPlan(const ExecPlan&) = delete;
  ExecPlan& operator=(const ExecPlan&) = delete;

  char** argv() { return argv_pointers_.data(); }
  char** envp() { return environment_pointers_.data(); }
  // The kPidDigits blanks of LISTEN_PID's value.
  char* pid_digits() { return environment_.front().data() + sizeof kListenPid - 1; }

 private:
  std::vector<std::string> argv_;
  std::vector<char*> argv_pointers_;
  std::vector<std::string> environment_;
  std::vector<char*> environment_pointers_;
};

// Writes `pid` in decimal, NUL-terminated, at `out` (kPidDigits + 1 bytes).
void write_decimal(char* out, pid_t pid) {
  char reversed[kPidDigits];
  std::size_t count = 0;
  auto value = static_cast<unsigned long>(pid);
  do {
    reversed[count++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  for (std::size_t i = 0; i < count; ++i) out[i] = reversed[count - 1 - i];
  out[count] = '\0';
}

// Signals with a handler go back to the default action. exec would do that
// anyway, but a signal arriving before it would run the application's
// handler inside the child. Ignored signals stay ignored, as posix_spawn
// leaves them, except SIGPIPE: servers rely on its default action, so it is
// restored as connect_command restores it.
void reset_signal_actions() {
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  for (int signum = 1; signum < NSIG; ++signum) {
    struct sigaction current {};
    if (::sigaction(signum, nullptr, &current) == -1 || current.sa_handler == SIG_DFL) continue;
    if (current.sa_handler == SIG_IGN && signum != SIGPIPE) continue;
    ::sigaction(signum, &default_action, nullptr);
  }
}

// The child between fork and exec: async-signal-safe calls only. A failure
// is reported as its errno through `report`.
[[noreturn]] void become_server(ExecPlan& plan, int listener, int report) {
  reset_signal_actions();
  write_decimal(plan.pid_digits(), ::getpid());
  // dup2 clears close-on-exec on the copy, but a listener already at 3 is
  // left as it is: hence the explicit F_SETFD in both cases.
  if ((listener == kListenFd || ::dup2(listener, kListenFd) == kListenFd) &&
      ::fcntl(kListenFd, F_SETFD, 0) == 0) {
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    // POSIX promises async-signal-safety only for execve, but glibc's PATH
    // search in execvpe uses stack buffers alone, so it is safe here too.
    ::execvpe(plan.argv()[0], plan.argv(), plan.envp());
  }
  const int err = errno;
  // Should even this fail, the parent takes the closed pipe for a started
  // program, whose exit then shows up as the connection ending.
  [[maybe_unused]] const ssize_t written = ::write(report, &err, sizeof err);
  ::_exit(127);
}

}  // namespace

Result<pid_t> start_socket_activated(std::vector<std::string> argv, int listener) {
  if (argv.empty()) return failure(EINVAL, "systemd socket activation: the command is empty");
  const std::string program = argv.front();
  ExecPlan plan(std::move(argv));

  // A failed exec is reported through this pipe; a successful one closes
  // the child's end (close-on-exec) without a word.
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) == -1) {
    const int err = errno;
    return failure(err, with_strerror("cannot create a pipe to start " + program, err));
  }
  UniqueFd report_reader(ends[0]);
  UniqueFd report_writer(ends[1]);
  if (report_writer.get() == kListenFd) {
    // The child is about to put the listener there.
    report_writer.reset(::fcntl(ends[1], F_DUPFD_CLOEXEC, kListenFd + 1));
    if (!report_writer) {
      const int err = errno;
      return failure(err, with_strerror("cannot prepare to start " + program, err));
    }
  }

  // Blocked across fork so that no handler of the application can run in
  // the child before reset_signal_actions; the child unblocks them itself.
  sigset_t all;
  sigset_t previous;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &previous);
  const pid_t pid = ::fork();
  if (pid == 0) become_server(plan, listener, report_writer.get());
  const int fork_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (pid == -1) {
    return failure(fork_errno, with_strerror("cannot fork to start " + program, fork_errno));
  }

  // Our copy of the writing end must go, or the read below never sees the
  // end of file that a successful exec causes.
  report_writer.reset();
  int exec_errno = 0;
  ssize_t got;
  do {
    got = ::read(report_reader.get(), &exec_errno, sizeof exec_errno);
  } while (got == -1 && errno == EINTR);
  // A pipe write this small is atomic: all of the errno, or nothing.
  if (got != static_cast<ssize_t>(sizeof exec_errno)) return pid;
  while (::waitpid(pid, nullptr, 0) == -1 && errno == EINTR) {
  }
  return failure(exec_errno, with_strerror("cannot start " + program, exec_errno));
}

}  // namespace nbdref::transport
