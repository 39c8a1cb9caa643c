// The clause catalogue (spec/clauses.tsv): one row per normative requirement
// of the NBD texts, with its id, role, level and whether a peer can see it
// on the wire.
#pragma once

#include <string>
#include <vector>

namespace nbdref::coverage {

struct Clause {
  std::string id;     // C-HS-003
  std::string role;   // client, server, both
  std::string level;  // MUST, MUST NOT, SHOULD, SHOULD NOT, MAY
  std::string section;
  std::string testable;  // wire or internal
  std::string summary;
};

// Reads the tab-separated table; throws std::runtime_error when the file
// cannot be read or a row does not have six fields.
std::vector<Clause> read_clause_table(const std::string& path);

// The clauses a client-side report counts: roles client or both, observable
// on the wire, MUST/MUST NOT/SHOULD/SHOULD NOT, and not the URI rows (U-).
bool is_wire_client_requirement(const Clause& clause);

}  // namespace nbdref::coverage
