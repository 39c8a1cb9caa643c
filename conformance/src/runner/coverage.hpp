// Which server-side wire-observable requirements of clauses.tsv the
// catalogue checks, overall and per clause area, and which it does not,
// each of those with the reason uncovered.tsv gives.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "runner/catalogue.hpp"
#include "runner/clause_table.hpp"
#include "runner/uncovered_reasons.hpp"

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
  // Why each uncovered clause has no check, by id (from uncovered.tsv).
  UncoveredReasons reasons;
  // Uncovered clauses without a reason, and ids given a reason that are
  // covered or are no server requirement of the table: both mean the
  // reasons file is out of date.
  std::vector<std::string> unexplained;
  std::vector<std::string> stray_reasons;
  std::size_t covered_count() const { return covered.size(); }
  std::size_t total() const { return covered.size() + uncovered.size(); }
};

// The table's server requirements split by whether some check cites them,
// the uncovered ones with their `reasons`. `table` must outlive the result.
Coverage measure_coverage(const std::vector<Clause>& table, const Catalogue& catalogue,
                          const UncoveredReasons& reasons = {});

// The ids of checks citing `clause_id`, comma-separated.
std::string checks_citing(const Catalogue& catalogue, const std::string& clause_id);

// The report --coverage prints: per-area counts and percentages, the
// covered ids with their checks, and the uncovered ids with their summaries
// and the reasons they have no check.
std::string coverage_text(const Coverage& coverage, const Catalogue& catalogue);

}  // namespace nbdref::conform
