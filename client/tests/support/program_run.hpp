// Runs a program to its end as a test's subprocess and collects how it
// ended and everything it printed.
#pragma once

#include <chrono>
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

// Runs argv, waiting at most `limit` before stopping it.
ProgramRun run_program(std::vector<std::string> argv,
                       std::chrono::milliseconds limit = std::chrono::seconds(20));

}  // namespace nbdref::test
