#include "support/child_process.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

#include "support/process_group.hpp"
#include "transport/unique_fd.hpp"

extern char** environ;

namespace nbdref::test {
namespace {

constexpr auto kStopGrace = std::chrono::seconds(2);
constexpr auto kPollInterval = std::chrono::milliseconds(5);

// What the child reports through the exec-status pipe when it fails before or
// at exec.
struct ChildFailure {
  int step;  // index into kStepNames
  int error;
};
constexpr const char* kStepNames[] = {"setpgid", "prctl", "dup2", "execve"};

std::string find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

std::vector<std::string> child_environment() {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    if (std::strncmp(*e, "LC_ALL=", 7) != 0) env.emplace_back(*e);
  }
  env.emplace_back("LC_ALL=C");
  return env;
}

std::vector<char*> pointers_to(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (auto& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

// Runs in the child between fork and exec, so only async-signal-safe calls.
// Every descriptor above stderr gets close-on-exec: the test process may have
// inherited pipes (from ctest or a shell) that a daemon must not keep open,
// or whoever reads them would wait for end-of-file forever.
void close_inherited_descriptors_on_exec(rlim_t descriptor_limit) {
  if (::close_range(3, ~0u, CLOSE_RANGE_CLOEXEC) == 0) return;
  // Kernels before 5.11 lack CLOSE_RANGE_CLOEXEC. The cap keeps an unlimited
  // RLIMIT_NOFILE from turning this into billions of system calls.
  const rlim_t end = std::min(descriptor_limit, rlim_t{1} << 20);
  for (rlim_t fd = 3; fd < end; ++fd) ::fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
}

[[noreturn]] void fail_in_child(int status_fd, int step) {
  ChildFailure failure{step, errno};
  [[maybe_unused]] auto written = ::write(status_fd, &failure, sizeof failure);
  ::_exit(127);
}

std::string quote_for_shell(const std::string& arg) {
  bool plain = !arg.empty() && arg.find_first_not_of(
                                   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "0123456789_./=:,@%+-") == std::string::npos;
  if (plain) return arg;
  std::string quoted = "'";
  for (char c : arg) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

ChildProcess::ChildProcess(std::vector<std::string> argv, SpawnOptions options)
    : argv_(std::move(argv)), output_path_(std::move(options.output_path)) {
  if (argv_.empty()) throw std::invalid_argument("ChildProcess needs a program to run");
  // Everything the child needs is prepared before fork: after it, the child
  // may only make async-signal-safe calls, and malloc is not one.
  const std::string program = find_program(argv_[0]);
  if (program.empty()) {
    throw std::runtime_error("cannot find " + argv_[0] + " in PATH for: " + command_line());
  }
  std::vector<std::string> argv_copy = argv_;
  std::vector<char*> argv_pointers = pointers_to(argv_copy);
  std::vector<std::string> env = child_environment();
  std::vector<char*> env_pointers = pointers_to(env);

  transport::UniqueFd output(
      ::open(output_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!output) {
    throw std::runtime_error("cannot create " + output_path_ + ": " + std::strerror(errno));
  }
  transport::UniqueFd dev_null;
  if (options.stdin_fd < 0) {
    dev_null = transport::UniqueFd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!dev_null) throw std::runtime_error("cannot open /dev/null");
  }
  const int stdin_fd = options.stdin_fd >= 0 ? options.stdin_fd : dev_null.get();
  // The child reports a failure before exec through this pipe; a successful
  // exec closes it (close-on-exec), which the parent reads as end-of-file.
  int status_pipe[2];
  if (::pipe2(status_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
  }
  transport::UniqueFd status_read(status_pipe[0]);
  transport::UniqueFd status_write(status_pipe[1]);
  rlimit descriptors{};
  ::getrlimit(RLIMIT_NOFILE, &descriptors);
  const pid_t parent = ::getpid();

  const pid_t child = ::fork();
  if (child < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (child == 0) {
    const int report = status_write.get();
    if (::setpgid(0, 0) != 0) fail_in_child(report, 0);
    if (options.die_with_parent) {
      if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail_in_child(report, 1);
      // The parent may have died before prctl took effect.
      if (::getppid() != parent) ::_exit(127);
    }
    if (::dup2(stdin_fd, 0) < 0 || ::dup2(output.get(), 1) < 0 || ::dup2(output.get(), 2) < 0) {
      fail_in_child(report, 2);
    }
    close_inherited_descriptors_on_exec(descriptors.rlim_cur);
    // Ignored signals and the signal mask survive exec; a server that
    // inherited an ignored SIGTERM could not be stopped politely.
    struct sigaction default_action {};
    default_action.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &default_action, nullptr);
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(program.c_str(), argv_pointers.data(), env_pointers.data());
    fail_in_child(report, 3);
  }

  // Set the group from this side too, so that signalling the group works even
  // if the child has not been scheduled yet. EACCES after the child's exec is
  // harmless: the child has set it by then.
  ::setpgid(child, child);
  pid_ = child;
  status_write.reset();
  ChildFailure failure{};
  ssize_t got;
  do {
    got = ::read(status_read.get(), &failure, sizeof failure);
  } while (got < 0 && errno == EINTR);
  if (got == static_cast<ssize_t>(sizeof failure)) {
    ::waitpid(child, nullptr, 0);
    pid_ = -1;
    throw std::runtime_error(std::string("cannot start ") + command_line() + ": " +
                             kStepNames[failure.step] + ": " + std::strerror(failure.error));
  }
}

ChildProcess::~ChildProcess() {
  stop();
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : argv_(std::move(other.argv_)),
      output_path_(std::move(other.output_path_)),
      pid_(std::exchange(other.pid_, -1)),
      exit_description_(std::move(other.exit_description_)),
      exit_status_(other.exit_status_) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    stop();
    argv_ = std::move(other.argv_);
    output_path_ = std::move(other.output_path_);
    pid_ = std::exchange(other.pid_, -1);
    exit_description_ = std::move(other.exit_description_);
    exit_status_ = other.exit_status_;
  }
  return *this;
}

std::string ChildProcess::command_line() const {
  std::string line;
  for (const auto& arg : argv_) {
    if (!line.empty()) line += ' ';
    line += quote_for_shell(arg);
  }
  return line;
}

std::string ChildProcess::output() const {
  return read_text_file(output_path_);
}

bool ChildProcess::has_exited() {
  if (exit_description_) return true;
  if (pid_ < 0) return true;
  siginfo_t info{};
  // WNOWAIT leaves the zombie in place: see has_exited() in the header.
  if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0 ||
      info.si_pid != pid_) {
    return false;
  }
  if (info.si_code == CLD_EXITED) {
    exit_status_ = info.si_status;
    exit_description_ = "exited with status " + std::to_string(info.si_status);
  } else {
    exit_description_ = "killed by signal " + std::to_string(info.si_status) + " (" +
                        ::strsignal(info.si_status) + ")";
  }
  return true;
}

std::string ChildProcess::exit_description() {
  return has_exited() ? exit_description_.value_or("already stopped") : "still running";
}

std::optional<int> ChildProcess::exit_status() {
  has_exited();
  return exit_status_;
}

bool ChildProcess::wait_for_exit(std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!has_exited()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kPollInterval);
  }
  return true;
}

bool ChildProcess::stop() {
  if (pid_ < 0) return true;
  std::vector<pid_t> survivors = terminate_process_group(pid_, kStopGrace);
  if (survivors.empty()) {
    ::waitpid(pid_, nullptr, 0);
  } else {
    // Reap if possible, but never block on a process that SIGKILL did not end.
    ::waitpid(pid_, nullptr, WNOHANG);
    std::string list;
    for (pid_t p : survivors) list += " " + std::to_string(p);
    std::fprintf(stderr, "nbdref test support: after SIGKILL, still alive from [%s]:%s\n",
                 command_line().c_str(), list.c_str());
  }
  pid_ = -1;
  return survivors.empty();
}

}  // namespace nbdref::test
