#include "support/nbd_server_daemon.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

#include "support/free_port.hpp"
#include "support/listening_socket.hpp"
#include "support/process_group.hpp"

namespace nbdref::test {
namespace {

constexpr auto kStopGrace = std::chrono::seconds(2);
// nbd-server 3.24 listens first and then generates Diffie-Hellman parameters
// for TLS (even when no export uses TLS) before it accepts anyone: 0.15 to 2 s
// of CPU, more on a loaded machine.
constexpr auto kFirstGreetingTimeout = std::chrono::seconds(30);

// Runs as `sh -c SCRIPT nbdref-guardian PGID` with the read end of a pipe as
// stdin. `read` returns at end-of-file, which comes only when the test process
// dies without stop() (stop() ends the guardian first). Nobody is left to
// want a clean shutdown then, so SIGKILL ends the daemon's group at once and
// the guardian does not linger.
constexpr const char* kGuardianScript = "read -r ignored; kill -s KILL -- \"-$1\"";

// Whether a client connecting to `endpoint` receives its first byte of
// greeting within `limit`.
bool greets_within(const Endpoint& endpoint, std::chrono::milliseconds limit) {
  transport::UniqueFd probe = connect_to(endpoint);
  pollfd p{probe.get(), POLLIN, 0};
  int ready;
  do {
    ready = ::poll(&p, 1, static_cast<int>(limit.count()));
  } while (ready < 0 && errno == EINTR);
  char first = 0;
  return ready > 0 && ::read(probe.get(), &first, 1) == 1;
}

const char* yes_no(bool b) {
  return b ? "true" : "false";
}

void check_export_name(const std::string& name) {
  // A name with these characters would not survive as a [section] header;
  // "generic" is the server-wide section.
  if (name.empty() || name == "generic" || name.find_first_of("[]\n\r") != std::string::npos) {
    throw std::invalid_argument("nbd-server cannot serve an export named \"" + name + "\"");
  }
}

}  // namespace

NbdServerDaemon::NbdServerDaemon(Options options)
    : options_(std::move(options)),
      dir_("nbdref-nbd-server"),
      config_path_(dir_.file("nbd-server.conf")),
      pid_path_(dir_.file("nbd-server.pid")) {
  for (std::size_t i = 0; i < options_.exports.size(); ++i) {
    check_export_name(options_.exports[i].name);
    export_paths_.push_back(
        dir_.create_sparse_file("export-" + std::to_string(i) + ".img", options_.exports[i].size));
  }
  // The destructor does not run for a constructor that throws.
  try {
    start();
  } catch (...) {
    stop();
    throw;
  }
}

NbdServerDaemon::~NbdServerDaemon() {
  stop();
}

void NbdServerDaemon::start() {
  for (int attempt = 1;; ++attempt) {
    endpoint_ = options_.transport == Transport::UnixSocket
                    ? Endpoint::unix_socket(dir_.file("nbd-server.sock"))
                    : Endpoint::tcp_loopback(pick_free_tcp_port());
    write_config(endpoint_);
    ::unlink(pid_path_.c_str());  // a daemon that failed leaves its pid file behind

    const auto deadline = std::chrono::steady_clock::now() + kReadyTimeout;
    launcher_.emplace(std::vector<std::string>{"nbd-server", "-C", config_path_, "-p", pid_path_},
                      SpawnOptions{.output_path = dir_.file("nbd-server.log")});
    if (!launcher_->wait_for_exit(kReadyTimeout)) fail("did not daemonize in time");
    if (launcher_->exit_status() != 0) fail(launcher_->exit_description());
    daemon_pid_ = wait_for_pid_file(deadline);
    if (daemon_pid_ < 0) fail("wrote no pid to " + pid_path_ + " in time");
    // Only now is the daemon surely out of the launcher's process group: it
    // calls setsid() before writing its pid. Stopping the launcher's group
    // earlier could kill the daemon in between.
    launcher_->stop();
    // daemon(3) makes the daemon a session leader, so this is normally its own
    // pid; asking keeps the stop right if a version ever does otherwise.
    daemon_group_ = ::getpgid(daemon_pid_);
    if (daemon_group_ < 0) daemon_group_ = daemon_pid_;
    start_guardian();

    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    const pid_t daemon = daemon_pid_;
    Readiness readiness = wait_until_listening(
        daemon, endpoint_, [daemon] { return !process_is_alive(daemon); }, left);
    if (readiness == Readiness::Listening) {
      // Ready means a client is served without the start-up delay, so that
      // tests' own timeouts do not have to allow for it.
      if (!greets_within(endpoint_, kFirstGreetingTimeout)) {
        fail("sent no greeting within " + std::to_string(kFirstGreetingTimeout.count()) + " s");
      }
      return;
    }
    if (readiness == Readiness::TimedOut) fail("did not listen in time");
    // The daemon cannot tell us why it exited (see the header); on TCP the
    // likely cause is that another process took the port.
    stop();
    if (endpoint_.is_unix() || attempt >= kMaxPortAttempts) {
      fail("daemon exited before listening (it reports errors only to syslog)");
    }
  }
}

void NbdServerDaemon::write_config(const Endpoint& endpoint) {
  std::ostringstream config;
  config << "[generic]\n";
  if (endpoint.is_unix()) {
    config << "unixsock = " << endpoint.unix_path << "\n";
  } else {
    config << "listenaddr = " << endpoint.host << "\n"
           << "port = " << endpoint.port << "\n";
  }
  config << "allowlist = true\n";
  for (const std::string& line : options_.generic_lines) config << line << "\n";
  // Each export names an allow file that does not exist, which lets every
  // client in: the default, /etc/nbd-server/allow, may restrict clients on
  // some machine.
  const std::string allow_everyone = dir_.file("no-such-allow-file");
  for (std::size_t i = 0; i < options_.exports.size(); ++i) {
    const Export& e = options_.exports[i];
    config << "\n[" << e.name << "]\n"
           << "exportname = " << export_paths_[i] << "\n"
           << "authfile = " << allow_everyone << "\n"
           << "readonly = " << yes_no(e.read_only) << "\n"
           << "trim = " << yes_no(e.trim) << "\n"
           << "flush = " << yes_no(e.flush) << "\n"
           << "fua = " << yes_no(e.fua) << "\n";
  }
  config_text_ = config.str();
  std::ofstream out(config_path_, std::ios::trunc);
  out << config_text_;
  if (!out.flush()) throw std::runtime_error("cannot write " + config_path_);
}

// The daemon writes "PID\n" after forking, so the file may be missing or
// half-written for a moment after the launcher has exited.
pid_t NbdServerDaemon::wait_for_pid_file(std::chrono::steady_clock::time_point deadline) const {
  for (;;) {
    std::ifstream in(pid_path_);
    std::string line;
    if (std::getline(in, line) && !in.eof()) {
      try {
        return static_cast<pid_t>(std::stol(line));
      } catch (const std::exception&) {
        // not a number yet; read it again
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void NbdServerDaemon::start_guardian() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
  }
  transport::UniqueFd read_end(fds[0]);
  guardian_pipe_ = transport::UniqueFd(fds[1]);
  guardian_.emplace(std::vector<std::string>{"/bin/sh", "-c", kGuardianScript, "nbdref-guardian",
                                             std::to_string(daemon_group_)},
                    // The guardian must outlive a test process that dies, so no death signal.
                    SpawnOptions{.output_path = dir_.file("guardian.log"),
                                 .stdin_fd = read_end.get(),
                                 .die_with_parent = false});
}

bool NbdServerDaemon::stop() {
  // The guardian goes first, quietly (SIGTERM ends the shell while it waits
  // in `read`), so it never signals a group we have already cleaned up.
  if (guardian_) guardian_->stop();
  guardian_.reset();
  guardian_pipe_.reset();
  if (daemon_pid_ < 0) return true;
  std::vector<pid_t> survivors = terminate_process_group(daemon_group_, kStopGrace);
  if (!survivors.empty()) {
    std::string list;
    for (pid_t p : survivors) list += " " + std::to_string(p);
    std::fprintf(stderr, "nbdref test support: nbd-server group %d still alive after SIGKILL:%s\n",
                 static_cast<int>(daemon_group_), list.c_str());
  }
  daemon_pid_ = -1;
  daemon_group_ = -1;
  return survivors.empty();
}

std::string NbdServerDaemon::command_line() const {
  return launcher_ ? launcher_->command_line() : std::string();
}

std::string NbdServerDaemon::output() const {
  return launcher_ ? launcher_->output() : std::string();
}

void NbdServerDaemon::fail(const std::string& what) {
  std::string message = "nbd-server " + what + " (endpoint " + endpoint_.describe() +
                        ")\ncommand: " + command_line() + "\nconfig " + config_path_ + ":\n" +
                        config_text_ + "output:\n" + output();
  stop();
  throw std::runtime_error(message);
}

}  // namespace nbdref::test
