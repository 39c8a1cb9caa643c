#include "runner/coverage.hpp"

#include <algorithm>
#include <cstdio>
#include <set>

namespace nbdref::conform {
namespace {

std::string percent(std::size_t part, std::size_t whole) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.1f%%",
                whole ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0);
  return buf;
}

std::string padded(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

}  // namespace

Coverage measure_coverage(const std::vector<Clause>& table, const Catalogue& catalogue,
                          const UncoveredReasons& reasons) {
  std::set<std::string> cited;
  for (const Check& c : catalogue.checks()) cited.insert(c.clauses.begin(), c.clauses.end());

  Coverage out;
  for (const std::string& id : cited) {
    const bool known =
        std::any_of(table.begin(), table.end(), [&id](const Clause& c) { return c.id == id; });
    if (!known) out.unknown_ids.push_back(id);
  }
  for (const Clause& clause : table) {
    if (!clause.is_server_wire_requirement()) continue;
    const bool is_covered = cited.contains(clause.id);
    (is_covered ? out.covered : out.uncovered).push_back(&clause);
    const std::string area = clause.area();
    auto it = std::find_if(out.areas.begin(), out.areas.end(),
                           [&area](const AreaCoverage& a) { return a.area == area; });
    if (it == out.areas.end()) {
      out.areas.push_back({area, 0, 0});
      it = out.areas.end() - 1;
    }
    ++it->total;
    if (is_covered) ++it->covered;
    const auto reason = reasons.find(clause.id);
    if (!is_covered && reason != reasons.end()) out.reasons.insert(*reason);
    if (!is_covered && reason == reasons.end()) out.unexplained.push_back(clause.id);
  }
  for (const auto& [id, reason] : reasons) {
    if (!out.reasons.contains(id)) out.stray_reasons.push_back(id);
  }
  return out;
}

std::string checks_citing(const Catalogue& catalogue, const std::string& clause_id) {
  std::string out;
  for (const Check& c : catalogue.checks()) {
    if (std::find(c.clauses.begin(), c.clauses.end(), clause_id) == c.clauses.end()) continue;
    if (!out.empty()) out += ", ";
    out += c.id;
  }
  return out;
}

std::string coverage_text(const Coverage& coverage, const Catalogue& catalogue) {
  std::string out =
      "Server-side wire-observable requirements (MUST, MUST NOT, SHOULD, SHOULD NOT) "
      "with a check: " +
      std::to_string(coverage.covered_count()) + " of " + std::to_string(coverage.total()) + " (" +
      percent(coverage.covered_count(), coverage.total()) + ")\n\n";
  out += "area      covered  total  percent\n";
  for (const AreaCoverage& a : coverage.areas) {
    char line[96];
    std::snprintf(line, sizeof line, "%-8s  %7zu  %5zu  %7s\n", a.area.c_str(), a.covered, a.total,
                  percent(a.covered, a.total).c_str());
    out += line;
  }
  out += "\nCovered:\n";
  for (const Clause* c : coverage.covered) {
    out += "  " + padded(c->id, 10) + " " + checks_citing(catalogue, c->id) + "\n";
  }
  out += "\nNot covered:\n";
  for (const Clause* c : coverage.uncovered) {
    out += "  " + padded(c->id, 10) + " " + padded(c->level, 10) + " " + c->summary + "\n";
    const auto reason = coverage.reasons.find(c->id);
    out += "  " + padded("", 10) + " why not: " +
           (reason != coverage.reasons.end() ? reason->second : "(no reason given)") + "\n";
  }
  if (!coverage.stray_reasons.empty()) {
    out += "\nGiven a reason for having no check, but covered or not a server requirement:\n";
    for (const std::string& id : coverage.stray_reasons) out += "  " + id + "\n";
  }
  if (!coverage.unknown_ids.empty()) {
    out += "\nCited by checks but not in the clause table:\n";
    for (const std::string& id : coverage.unknown_ids) out += "  " + id + "\n";
  }
  return out;
}

}  // namespace nbdref::conform
