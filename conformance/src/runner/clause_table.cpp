#include "runner/clause_table.hpp"

#include "runner/tsv_table.hpp"

namespace nbdref::conform {

bool Clause::is_server_wire_requirement() const {
  const bool server_side = id.starts_with("S-") || id.starts_with("X-S-") || id.starts_with("X-B-");
  const bool requirement =
      level == "MUST" || level == "MUST NOT" || level == "SHOULD" || level == "SHOULD NOT";
  return server_side && requirement && testable == "wire";
}

std::string Clause::area() const {
  const std::size_t dash = id.rfind('-');
  return dash == std::string::npos ? id : id.substr(0, dash);
}

Result<std::vector<Clause>> parse_clause_table(std::string_view text, const std::string& source) {
  auto rows = parse_tsv_rows(text, source, 6);
  if (!rows) return tl::unexpected(rows.error());
  std::vector<Clause> clauses;
  clauses.reserve(rows->size());
  for (auto& r : *rows) {
    auto& f = r.fields;
    clauses.push_back({std::move(f[0]), std::move(f[1]), std::move(f[2]), std::move(f[3]),
                       std::move(f[4]), std::move(f[5])});
  }
  return clauses;
}

Result<std::vector<Clause>> load_clause_table(const std::string& path) {
  auto text = read_table_file(path, "the clause table");
  if (!text) return tl::unexpected(text.error());
  return parse_clause_table(*text, path);
}

}  // namespace nbdref::conform
