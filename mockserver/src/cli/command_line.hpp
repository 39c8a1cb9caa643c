// What the person asked nbdref-mock to do.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>

namespace nbdref::mock::cli {

// A command line nbdref-mock cannot act on: exit status 2, as for a script
// that does not parse, so callers can tell it from a client that failed the
// script (status 1).
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Action {
  Play,        // serve connections with the script
  Relay,       // --relay: forward connections to a real server, recording them
  Check,       // --check: parse the script, report, exit
  Print,       // --print: the script as the printer writes it
  Help,        // --help
  HelpScript,  // --help-script: every step and key
};

enum class Listen {
  Stdin,    // --stdin: one connection on stdin/stdout
  Unix,     // --unix PATH
  Tcp,      // --tcp PORT on 127.0.0.1
  Systemd,  // no address given and LISTEN_FDS set: the socket on fd 3
};

struct Invocation {
  Action action = Action::Play;
  Listen listen = Listen::Systemd;
  std::string unix_path;
  std::uint16_t tcp_port = 0;  // 0: the system picks; the port is printed
  std::string port_file;       // --port-file: where the picked port is written
  // Connections to serve before exiting (--connections N); 0 serves until killed.
  std::uint64_t connections = 1;
  std::string transcript_path;                // --transcript FILE ("-" is stderr)
  bool transcript_bytes = false;              // --hex
  std::chrono::milliseconds timeout{10'000};  // --timeout: expectations' default
  std::string script_path;
  std::string relay_target;  // --relay TARGET, as written
  std::string record_dir;    // --record DIR
};

// Parses argv (argv[0] is the program name); throws UsageError. `systemd`
// says whether the environment passes a listening socket (LISTEN_FDS).
Invocation parse_command_line(std::span<const char* const> argv, bool systemd);

const char* usage_line();
std::string help_text();

}  // namespace nbdref::mock::cli
