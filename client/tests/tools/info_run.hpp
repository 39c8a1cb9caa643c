// Runs nbdref-info (or jq, which checks its JSON) as a subprocess and
// collects how it ended and everything it printed.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace nbdref::test {

struct ProgramRun {
  std::string command_line;
  // The exit status; empty when a signal ended the program or it hung.
  std::optional<int> status;
  // stdout and stderr, interleaved as written.
  std::string output;
};

// The command, how it ended and its output, for failure messages.
std::string describe(const ProgramRun& run);

// Runs argv, waiting at most 20 seconds (the tool is meant to be fast).
ProgramRun run_program(std::vector<std::string> argv);

// nbdref-info with `args`.
ProgramRun run_info(std::vector<std::string> args);

// `jq -e FILTER` over `json`: status 0 when the document parses and FILTER
// yields true.
ProgramRun run_jq(const std::string& json, const std::string& filter);

// The server command line nbdref-info runs after "--": nbdkit on stdin and
// stdout, gone when the tool is.
std::vector<std::string> nbdkit_command(std::vector<std::string> plugin_and_args);

// "--", then the command.
std::vector<std::string> with_command(std::vector<std::string> options,
                                      const std::vector<std::string>& command);

}  // namespace nbdref::test
