// What the person asked for on the command line.
#pragma once

#include <span>
#include <string>

#include "target.hpp"

namespace nbdref::info {

enum class Mode {
  Report,  // one export: what it offers
  List,    // every export the server lists, each with its report
  Map,     // the extent map of one export for one metadata context
};

struct Invocation {
  bool help = false;  // --help: nothing else is looked at
  Mode mode = Mode::Report;
  bool json = false;
  std::string export_name;  // --export; the default export is ""
  std::string map_context;  // --map [CONTEXT]
  Target target;
};

// Parses argv (argv[0] is the program name). Throws UsageError.
Invocation parse_command_line(std::span<const char* const> argv);

// The one-line synopsis printed after a usage error.
const char* usage_line();
// The full text for --help.
std::string help_text();

}  // namespace nbdref::info
