// A conformance check as the catalogue lists it: a stable id, the spec area
// it belongs to, the clause ids of clauses.tsv it enforces, the strongest
// requirement level among them, a one-line description, and the function
// that runs it against a server.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace nbdref::conform {

class CheckContext;
struct Outcome;

// RFC 2119 levels as proto.md uses them; MAY clauses are never checked.
enum class Level { Must, MustNot, Should, ShouldNot };

// "MUST", "MUST NOT", "SHOULD", "SHOULD NOT".
std::string_view level_name(Level level);
// MUST and MUST NOT: a failure breaks the protocol, not a recommendation.
bool is_mandatory(Level level);

using CheckFunction = Outcome (*)(CheckContext&);

struct Check {
  std::string id;                    // "opt.unknown-option-unsup": area prefix, then what it checks
  std::string area;                  // "options": the report groups by it
  std::vector<std::string> clauses;  // "S-INT-004", ...
  Level level = Level::Must;
  std::string description;  // what the server must do, one line
  CheckFunction run = nullptr;
  // The check may take the server down (it tests the server's survival of
  // something a client may do): the catalogue runs it after every other
  // check, and the runner leaves its outcome alone when the server dies,
  // since the check judges that itself.
  bool endangers_server = false;
  // Position in the catalogue, fixed by Catalogue::add: it gives the check
  // its own region of the export to write in.
  std::size_t index = 0;

  // "S-INT-004, S-HS-009".
  std::string clause_list() const;
};

}  // namespace nbdref::conform
