// The command line of nbdref-conform:
//
//   nbdref-conform [options] URI
//   nbdref-conform [options] [--socket-activation] -- COMMAND [ARGS...]
//   nbdref-conform --list | --coverage [options]
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "error/error.hpp"

namespace nbdref::conform {

struct CommandLine {
  std::vector<std::string> only;  // --only PATTERN[,PATTERN...] (repeatable)
  std::vector<std::string> skip;  // --skip PATTERN[,PATTERN...]
  std::optional<std::string> expect_file;
  std::optional<std::string> junit_file;
  std::optional<std::string> json_file;
  std::optional<std::string> clauses_file;  // --clauses; else the built-in path
  std::chrono::milliseconds timeout{10'000};
  std::string export_name;  // --export, for command targets
  // TLS credentials for a command target or an nbds URI (which may also
  // carry them as tls-certificates= / tls-psk-file= parameters).
  std::optional<std::string> tls_certificates;  // --tls-certificates DIR
  std::optional<std::string> tls_psk_file;      // --tls-psk-file FILE
  std::optional<std::string> tls_username;      // --tls-username NAME (PSK)
  bool list = false;
  bool coverage = false;
  bool verbose = false;
  bool socket_activation = false;
  bool help = false;
  std::optional<std::string> uri;
  std::vector<std::string> command;  // after "--"
};

// Parses argv[1..]. Fails with EINVAL and a message saying what is wrong
// (an unknown option, a missing value, a bad timeout, no target or two,
// both --tls-certificates and --tls-psk-file).
Result<CommandLine> parse_command_line(const std::vector<std::string>& args);

// The --help text.
std::string usage_text();

}  // namespace nbdref::conform
