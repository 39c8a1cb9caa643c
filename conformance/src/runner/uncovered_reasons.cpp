#include "runner/uncovered_reasons.hpp"

#include <cerrno>

#include "runner/tsv_table.hpp"

namespace nbdref::conform {

Result<UncoveredReasons> parse_uncovered_reasons(std::string_view text, const std::string& source) {
  auto rows = parse_tsv_rows(text, source, 2);
  if (!rows) return tl::unexpected(rows.error());
  UncoveredReasons reasons;
  for (auto& r : *rows) {
    const std::string where = source + ":" + std::to_string(r.line) + ": ";
    std::string& id = r.fields[0];
    std::string& reason = r.fields[1];
    if (id.empty() || reason.empty()) return failure(EINVAL, where + "empty id or reason");
    if (!reasons.emplace(id, reason).second) {
      return failure(EINVAL, where + id + " is given a reason twice");
    }
  }
  return reasons;
}

Result<UncoveredReasons> load_uncovered_reasons(const std::string& path) {
  auto text = read_table_file(path, "the reasons for uncovered clauses");
  if (!text) return tl::unexpected(text.error());
  return parse_uncovered_reasons(*text, path);
}

}  // namespace nbdref::conform
