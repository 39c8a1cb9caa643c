// The results of a run: each selected check's outcome with its evidence
// (the transcripts of its connections), how long it took, what the
// expectation file said about it, and the counts a summary shows.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "probe/transcript.hpp"
#include "runner/check.hpp"
#include "runner/expectations.hpp"
#include "runner/outcome.hpp"

namespace nbdref::conform {

struct CheckResult {
  const Check* check = nullptr;
  Outcome outcome;
  std::vector<std::shared_ptr<Transcript>> transcripts;
  std::chrono::milliseconds duration{0};
  // The expectation file's line for this check, if it has one.
  std::optional<Expectation> expectation;
  // The outcome is not what the expectation (or, without one, a conforming
  // server) leads us to expect.
  bool difference = false;
};

struct RunSummary {
  std::size_t passed = 0;
  std::size_t failed = 0;
  std::size_t not_applicable = 0;
  std::size_t errors = 0;
  std::size_t differences = 0;
  std::size_t total() const { return passed + failed + not_applicable + errors; }
};

struct RunResult {
  std::string target;                             // Target::describe()
  std::optional<std::string> expectation_source;  // the --expect file
  std::vector<CheckResult> results;
  std::chrono::milliseconds duration{0};

  RunSummary summary() const;
  // The results of one area, in run order.
  std::vector<const CheckResult*> in_area(const std::string& area) const;
  // Areas in the order their first result appears.
  std::vector<std::string> areas() const;
};

}  // namespace nbdref::conform
