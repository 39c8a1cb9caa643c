// The tab-separated tables the suite reads at run time (clauses.tsv,
// uncovered.tsv): a header row, then one row per line, fields split at
// tabs, CR-LF line ends accepted, empty lines skipped.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "error/error.hpp"

namespace nbdref::conform {

struct TsvRow {
  std::size_t line = 0;  // 1-based, for messages
  std::vector<std::string> fields;
};

// Every row after the header; fails unless each has `fields` fields, naming
// `source` and the line.
Result<std::vector<TsvRow>> parse_tsv_rows(std::string_view text, const std::string& source,
                                           std::size_t fields);
// The whole file at `path`; `what` names it in the error when it cannot be read.
Result<std::string> read_table_file(const std::string& path, const std::string& what);

}  // namespace nbdref::conform
