#include <spawn.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <optional>

#include "transport/connector.hpp"

namespace nbdref::transport {
namespace {

// What posix_spawnp needs besides argv, released on every path.
class SpawnSetup {
 public:
  SpawnSetup() {
    ::posix_spawn_file_actions_init(&actions_);
    ::posix_spawnattr_init(&attributes_);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
  ~SpawnSetup() {
    ::posix_spawnattr_destroy(&attributes_);
    ::posix_spawn_file_actions_destroy(&actions_);
  }

  // Arranges for `child_end` to become the child's stdin and stdout, and for
  // the child to start with no blocked signals and the default SIGPIPE
  // action (many servers rely on it; a client library often ignores it).
  // Returns 0 or an errno value.
  int prepare(int child_end) {
    sigset_t none;
    sigset_t pipe;
    sigemptyset(&none);
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    if (int r = ::posix_spawn_file_actions_adddup2(&actions_, child_end, STDIN_FILENO)) return r;
    if (int r = ::posix_spawn_file_actions_adddup2(&actions_, child_end, STDOUT_FILENO)) return r;
    if (int r = ::posix_spawnattr_setsigmask(&attributes_, &none)) return r;
    if (int r = ::posix_spawnattr_setsigdefault(&attributes_, &pipe)) return r;
    return ::posix_spawnattr_setflags(&attributes_, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  }

  const posix_spawn_file_actions_t* actions() const { return &actions_; }
  const posix_spawnattr_t* attributes() const { return &attributes_; }

 private:
  posix_spawn_file_actions_t actions_;
  posix_spawnattr_t attributes_;
};

class CommandConnector final : public Connector {
 public:
  explicit CommandConnector(std::vector<std::string> argv) : argv_(std::move(argv)) {}

  ConnectProgress step() override {
    if (!outcome_) outcome_ = spawn();
    return *outcome_;
  }
  int fd() const override { return socket_.get(); }
  UniqueFd take_socket() override { return std::move(socket_); }
  std::unique_ptr<Subprocess> take_subprocess() override { return std::move(subprocess_); }

  std::string describe() const override {
    std::string text = "command:";
    for (const std::string& arg : argv_) text += " " + arg;
    return text;
  }

 private:
  // posix_spawnp rather than fork and exec: nothing async-signal-unsafe runs
  // between the two in a threaded program, and glibc reports a failed exec
  // (a missing program, say) as its return value.
  ConnectProgress spawn() {
    if (argv_.empty()) {
      return ConnectProgress::failed(EINVAL, "connect_command: the command is empty");
    }

    int ends[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) == -1) {
      const int err = errno;
      return ConnectProgress::failed(
          err, with_strerror(describe() + ": cannot create socket pair", err));
    }
    UniqueFd ours(ends[0]);
    // Closed here once the child has its copies, so that the child's exit
    // shows as end of stream on our end.
    UniqueFd theirs(ends[1]);

    SpawnSetup setup;
    if (const int err = setup.prepare(theirs.get()); err != 0) {
      return ConnectProgress::failed(err,
                                     with_strerror("cannot prepare to start " + argv_[0], err));
    }
    std::vector<char*> args;
    for (std::string& arg : argv_) args.push_back(arg.data());
    args.push_back(nullptr);
    pid_t pid = -1;
    if (const int err = ::posix_spawnp(&pid, args[0], setup.actions(), setup.attributes(),
                                       args.data(), environ);
        err != 0) {
      return ConnectProgress::failed(err, with_strerror("cannot start " + argv_[0], err));
    }
    socket_ = std::move(ours);
    subprocess_ = std::make_unique<Subprocess>(pid);
    return ConnectProgress::connected();
  }

  std::vector<std::string> argv_;
  // Declared before socket_ so that, if nobody took them, the socket closes
  // first: the child sees end of stream before it is asked to terminate.
  std::unique_ptr<Subprocess> subprocess_;
  UniqueFd socket_;
  std::optional<ConnectProgress> outcome_;
};

}  // namespace

std::unique_ptr<Connector> connect_command(std::vector<std::string> argv) {
  return std::make_unique<CommandConnector>(std::move(argv));
}

}  // namespace nbdref::transport
