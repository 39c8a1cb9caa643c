// The requirement ids of the specification (clauses.tsv: id, role, level,
// section, testable, summary), and which of them a server can be checked
// against from the wire.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "error/error.hpp"

namespace nbdref::conform {

struct Clause {
  std::string id;        // "S-OPT-007"
  std::string role;      // server, client, both
  std::string level;     // MUST, MUST NOT, SHOULD, SHOULD NOT, MAY
  std::string section;   // of proto.md or the extended-headers text
  std::string testable;  // wire, internal
  std::string summary;

  // A MUST, MUST NOT, SHOULD or SHOULD NOT of a server (ids S-, X-S-,
  // X-B-) that a peer can observe on the wire: what the suite measures
  // itself against.
  bool is_server_wire_requirement() const;
  // "S-OPT" of "S-OPT-007", "X-S" of "X-S-012": the area the coverage
  // report groups by.
  std::string area() const;
};

// Parses the table's text (a header row, then six tab-separated fields per
// row). Fails with EINVAL and "SOURCE:LINE: ..." on a malformed row.
Result<std::vector<Clause>> parse_clause_table(std::string_view text, const std::string& source);
// parse_clause_table() on a file; fails with the errno of reading it.
Result<std::vector<Clause>> load_clause_table(const std::string& path);

}  // namespace nbdref::conform
