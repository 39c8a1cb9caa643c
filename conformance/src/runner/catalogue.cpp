#include "runner/catalogue.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <stdexcept>

namespace nbdref::conform {

void Catalogue::add(Check check) {
  if (check.id.empty() || check.area.empty() || check.description.empty() || !check.run ||
      check.clauses.empty()) {
    throw std::logic_error("check '" + check.id +
                           "' lacks an id, area, clause, description or function");
  }
  if (find(check.id)) throw std::logic_error("check id '" + check.id + "' is used twice");
  if (!check.endangers_server && !checks_.empty() && checks_.back().endangers_server) {
    throw std::logic_error("check '" + check.id + "' follows '" + checks_.back().id +
                           "', which may take the server down and so must run last");
  }
  check.index = checks_.size();
  checks_.push_back(std::move(check));
}

const Check* Catalogue::find(std::string_view id) const {
  for (const Check& c : checks_) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

std::vector<std::string> Catalogue::areas() const {
  std::vector<std::string> out;
  for (const Check& c : checks_) {
    if (std::find(out.begin(), out.end(), c.area) == out.end()) out.push_back(c.area);
  }
  return out;
}

std::vector<const Check*> Catalogue::select(const std::vector<std::string>& only,
                                            const std::vector<std::string>& skip) const {
  auto matches_any = [](const std::vector<std::string>& patterns, const std::string& id) {
    return std::any_of(patterns.begin(), patterns.end(),
                       [&id](const std::string& p) { return id_matches(p, id); });
  };
  std::vector<const Check*> out;
  for (const Check& c : checks_) {
    if (!only.empty() && !matches_any(only, c.id)) continue;
    if (matches_any(skip, c.id)) continue;
    out.push_back(&c);
  }
  return out;
}

bool id_matches(std::string_view pattern, std::string_view id) {
  return ::fnmatch(std::string(pattern).c_str(), std::string(id).c_str(), 0) == 0;
}

}  // namespace nbdref::conform
