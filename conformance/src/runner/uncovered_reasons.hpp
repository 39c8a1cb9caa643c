// Why the catalogue has no check for a clause (uncovered.tsv: id, reason):
// every server requirement the suite does not check carries a written
// reason ("cannot be provoked from a client", "needs a server shutdown"),
// shown by --coverage next to the clause.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "error/error.hpp"

namespace nbdref::conform {

// Clause id -> reason.
using UncoveredReasons = std::map<std::string, std::string>;

// Parses the file's text: a header row, then an id and a reason per row,
// tab-separated. Fails with EINVAL and "SOURCE:LINE: ..." on a malformed
// row, an empty reason or an id given twice.
Result<UncoveredReasons> parse_uncovered_reasons(std::string_view text, const std::string& source);
// parse_uncovered_reasons() on a file; fails with the errno of reading it.
Result<UncoveredReasons> load_uncovered_reasons(const std::string& path);

}  // namespace nbdref::conform
