// Which server-side wire-observable requirements of clauses.tsv the
// catalogue checks, overall and per clause area, and which it does not.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "runner/catalogue.hpp"
#include "runner/clause_table.hpp"

namespace nbdref::conform {

struct AreaCoverage {
  std::string area;  // "S-OPT"
  std::size_t covered = 0;
  std::size_t total = 0;
};

struct Coverage {
  std::vector<AreaCoverage> areas;     // in table order
  std::vector<const Clause*> covered;  // with the checks citing them
  std::vector<const Clause*> uncovered;
  // Ids the catalogue cites that the table does not have (typos).
  std::vector<std::string> unknown_ids;
  std::size_t covered_count() const { return covered.size(); }
  std::size_t total() const { return covered.size() + uncovered.size(); }
};

// The table's server requirements split by whether some check cites them.
// `table` must outlive the result.
Coverage measure_coverage(const std::vector<Clause>& table, const Catalogue& catalogue);

// The ids of checks citing `clause_id`, comma-separated.
std::string checks_citing(const Catalogue& catalogue, const std::string& clause_id);

// The report --coverage prints: per-area counts and percentages, the
// covered ids with their checks, and the uncovered ids with their summaries.
std::string coverage_text(const Coverage& coverage, const Catalogue& catalogue);

}  // namespace nbdref::conform
