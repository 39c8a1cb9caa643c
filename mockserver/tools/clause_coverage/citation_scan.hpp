// Finds the clause ids that tests cite: in C++ test sources (comments and
// strings alike) and in the `#@ clauses` lines of mock-server scripts.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

namespace nbdref::coverage {

// Clause id -> the files citing it (paths as given, below each root).
using Citations = std::map<std::string, std::set<std::string>>;

// Every id of the form C-XX-NNN, X-C-NNN, X-B-NNN, U-NNN (and S- and B-
// like C-, X-S- like X-C-) in the regular files under `roots` whose names end in one of
// `extensions`.
Citations scan_citations(const std::vector<std::string>& roots,
                         const std::vector<std::string>& extensions);

}  // namespace nbdref::coverage
