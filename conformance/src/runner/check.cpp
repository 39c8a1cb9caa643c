#include "runner/check.hpp"

namespace nbdref::conform {

std::string_view level_name(Level level) {
  switch (level) {
    case Level::Must:
      return "MUST";
    case Level::MustNot:
      return "MUST NOT";
    case Level::Should:
      return "SHOULD";
    case Level::ShouldNot:
      return "SHOULD NOT";
  }
  return "MUST";
}

bool is_mandatory(Level level) {
  return level == Level::Must || level == Level::MustNot;
}

std::string Check::clause_list() const {
  std::string out;
  for (const std::string& c : clauses) {
    if (!out.empty()) out += ", ";
    out += c;
  }
  return out;
}

}  // namespace nbdref::conform
