// nbd-server (3.24) for interop tests. nbd-server daemonizes and forks one
// child per client, so it is found through its pid file and stopped by its
// process group (the daemon is a session leader; its children stay in its
// group). A small guardian shell, outside the test's process tree, stops the
// daemon if the test process dies without doing so (a crash, or the ctest
// timeout): unlike our other servers, the daemon cannot be tied to its
// parent's death.
//
// Observed in 3.24: it has no structured replies; with `unixsock` it listens
// only on the Unix socket; once daemonized it reports errors only to syslog,
// so a failure after that point shows up as a daemon that vanished; after it
// starts listening it spends 0.15 to 2 s of CPU generating Diffie-Hellman
// parameters (TLS or not) before it greets anyone; and its reply to
// NBD_OPT_INFO gives export size 0, while NBD_OPT_GO and NBD_OPT_EXPORT_NAME
// give the real size.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "support/child_process.hpp"
#include "support/endpoint.hpp"
#include "support/temp_dir.hpp"
#include "transport/unique_fd.hpp"

namespace nbdref::test {

class NbdServerDaemon {
 public:
  // One [section] of the config file: a sparse file of `size` bytes served
  // under `name`, each boolean written as the key of the same name.
  struct Export {
    std::string name = "disk";
    std::uint64_t size = std::uint64_t{64} << 20;
    bool read_only = false;  // readonly
    bool trim = false;
    bool flush = false;
    bool fua = false;
  };

  struct Options {
    std::vector<Export> exports = {Export{}};
    // TCP by default, unlike the other servers: TCP is how nbd-server is
    // normally deployed.
    Transport transport = Transport::Tcp;
    // More lines for the [generic] section, "key = value" (TLS: certfile,
    // keyfile, cacertfile, force_tls).
    std::vector<std::string> generic_lines{};
  };

  // Writes the config file ([generic] with listenaddr = 127.0.0.1 and a free
  // port, or unixsock; allowlist = true; one section per export), runs
  //   nbd-server -C CONFIG -p PIDFILE
  // and returns once the daemon listens and has greeted a probe connection, so
  // the start-up delay above is over. Throws std::invalid_argument for an
  // export name the config file cannot hold, and std::runtime_error (with the
  // command line, config and output) when the server does not come up.
  NbdServerDaemon() : NbdServerDaemon(Options{}) {}
  explicit NbdServerDaemon(Options options);
  // stop()
  ~NbdServerDaemon();
  NbdServerDaemon(const NbdServerDaemon&) = delete;
  NbdServerDaemon& operator=(const NbdServerDaemon&) = delete;

  const Endpoint& endpoint() const { return endpoint_; }
  const Options& options() const { return options_; }
  const std::vector<Export>& exports() const { return options_.exports; }
  // The daemon's pid, read from the pid file; -1 after stop(). Its process
  // group holds the daemon and its per-client children.
  pid_t daemon_pid() const { return daemon_pid_; }
  const std::string& config_path() const { return config_path_; }
  const std::string& config_text() const { return config_text_; }
  std::string command_line() const;
  // What nbd-server printed before daemonizing; afterwards it prints nothing.
  std::string output() const;

  // Stops the daemon and every client child now instead of at destruction;
  // true when nothing is left of its process group. Idempotent.
  bool stop();

 private:
  void start();
  void write_config(const Endpoint& endpoint);
  pid_t wait_for_pid_file(std::chrono::steady_clock::time_point deadline) const;
  void start_guardian();
  [[noreturn]] void fail(const std::string& what);

  Options options_;
  TempDir dir_;  // config, pid file, socket, log and export files
  std::vector<std::string> export_paths_;
  std::string config_path_;
  std::string pid_path_;
  std::string config_text_;
  Endpoint endpoint_;
  std::optional<ChildProcess> launcher_;  // the nbd-server that daemonized
  pid_t daemon_pid_ = -1;
  pid_t daemon_group_ = -1;  // stopping this group stops the daemon and its children
  std::optional<ChildProcess> guardian_;
  transport::UniqueFd guardian_pipe_;  // the guardian acts when this closes
};

}  // namespace nbdref::test
