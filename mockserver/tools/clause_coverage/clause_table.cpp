#include "clause_table.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace nbdref::coverage {

std::vector<Clause> read_clause_table(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::vector<Clause> clauses;
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (number == 1 || line.empty()) continue;  // the header row
    std::vector<std::string> fields;
    std::istringstream row(line);
    std::string field;
    while (std::getline(row, field, '\t')) fields.push_back(field);
    if (fields.size() != 6) {
      throw std::runtime_error(path + ":" + std::to_string(number) + ": expected 6 fields, found " +
                               std::to_string(fields.size()));
    }
    clauses.push_back({fields[0], fields[1], fields[2], fields[3], fields[4], fields[5]});
  }
  return clauses;
}

bool is_wire_client_requirement(const Clause& c) {
  const bool client_side =
      c.id.starts_with("C-") || c.id.starts_with("X-C-") || c.id.starts_with("X-B-");
  const bool requirement =
      c.level == "MUST" || c.level == "MUST NOT" || c.level == "SHOULD" || c.level == "SHOULD NOT";
  return client_side && requirement && c.testable == "wire";
}

}  // namespace nbdref::coverage
