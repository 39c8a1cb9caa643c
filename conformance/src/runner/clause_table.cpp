#include "runner/clause_table.hpp"

#include <cerrno>
#include <fstream>
#include <sstream>

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
  std::vector<Clause> clauses;
  std::size_t number = 0;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (number == 1 || line.empty()) continue;  // the header row
    std::vector<std::string> fields;
    std::size_t start = 0;
    for (;;) {
      const std::size_t tab = line.find('\t', start);
      fields.emplace_back(line.substr(start, tab - start));
      if (tab == std::string_view::npos) break;
      start = tab + 1;
    }
    if (fields.size() != 6) {
      return failure(EINVAL, source + ":" + std::to_string(number) +
                                 ": expected 6 tab-separated "
                                 "fields, found " +
                                 std::to_string(fields.size()));
    }
    clauses.push_back({fields[0], fields[1], fields[2], fields[3], fields[4], fields[5]});
  }
  return clauses;
}

Result<std::vector<Clause>> load_clause_table(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    const int err = errno;
    return failure(err, with_strerror("cannot read the clause table " + path, err));
  }
  std::stringstream text;
  text << in.rdbuf();
  return parse_clause_table(text.str(), path);
}

}  // namespace nbdref::conform
