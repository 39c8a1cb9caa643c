// The list of checks, in the order they run and are reported, and the
// selection of some of them by id patterns (--only, --skip).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "runner/check.hpp"

namespace nbdref::conform {

class Catalogue {
 public:
  // Appends `check`, setting its index. Throws std::logic_error when the id
  // is taken, a field is empty, or a check that leaves the server alone
  // would follow one that endangers it (those run last, so that a server
  // they take down spoils no other check): each is a programming error,
  // found by the first run of any test.
  void add(Check check);

  const std::vector<Check>& checks() const { return checks_; }
  const Check* find(std::string_view id) const;
  // Areas in the order their first check appears.
  std::vector<std::string> areas() const;

  // The checks whose id matches at least one of `only` (every check when it
  // is empty) and none of `skip`; patterns are shell globs ("opt.*").
  std::vector<const Check*> select(const std::vector<std::string>& only,
                                   const std::vector<std::string>& skip) const;

 private:
  std::vector<Check> checks_;
};

// Whether `id` matches the shell glob `pattern` (*, ?, [...]).
bool id_matches(std::string_view pattern, std::string_view id);

}  // namespace nbdref::conform
