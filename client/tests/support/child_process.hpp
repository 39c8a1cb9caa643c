// A program started by a test, alone in a new process group, with its output
// captured to a file, and stopped (group and all) when the object goes away.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace nbdref::test {

struct SpawnOptions {
  // Receives the child's stdout and stderr; truncated first.
  std::string output_path;
  // Becomes the child's stdin; -1 means /dev/null. The caller keeps ownership.
  int stdin_fd = -1;
  // Have the kernel SIGKILL the child when the thread that started it ends
  // (PR_SET_PDEATHSIG), so a test that crashes or is killed by the ctest
  // timeout leaves no server behind. Start servers from the thread that owns
  // them, normally the test's main thread.
  bool die_with_parent = true;
};

class ChildProcess {
 public:
  // Starts argv[0] (searched in PATH unless it contains a '/') with the given
  // arguments, with LC_ALL=C so its messages can be matched, no signal ignored
  // or blocked, and no descriptor of ours but stdin/stdout/stderr. Throws
  // std::runtime_error with the command line when the program cannot be found
  // or run.
  ChildProcess(std::vector<std::string> argv, SpawnOptions options);
  // stop()
  ~ChildProcess();
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Also the id of its process group. -1 after stop() or a move.
  pid_t pid() const { return pid_; }
  const std::vector<std::string>& argv() const { return argv_; }
  // The arguments joined as a shell would need them, for error messages.
  std::string command_line() const;
  // What the child has written to stdout and stderr so far.
  std::string output() const;

  // Whether the child has exited. It is not reaped until stop(), so its pid,
  // and with it the process group id, cannot be reused meanwhile.
  bool has_exited();
  // "exited with status 1", "killed by signal 9 (Killed)" or "still running".
  std::string exit_description();
  // The status the child passed to exit(); empty while it runs or if a signal
  // ended it.
  std::optional<int> exit_status();
  // Waits up to `limit` for the child to exit by itself; true if it did.
  bool wait_for_exit(std::chrono::milliseconds limit);

  // SIGTERM to the whole group, SIGKILL after a grace period to whatever is
  // left, then reaps the child. Returns true when no process of the group is
  // left; otherwise also prints the survivors to stderr. Idempotent.
  bool stop();

 private:
  std::vector<std::string> argv_;
  std::string output_path_;
  pid_t pid_ = -1;
  std::optional<std::string> exit_description_;
  std::optional<int> exit_status_;
};

}  // namespace nbdref::test
