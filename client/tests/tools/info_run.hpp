// Runs nbdref-info (or jq, which checks its JSON) as a subprocess and
// collects how it ended and everything it printed.
#pragma once

#include <string>
#include <vector>

#include "support/program_run.hpp"

namespace nbdref::test {

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
