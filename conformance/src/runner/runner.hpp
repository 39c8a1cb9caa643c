// Runs checks against a target, each in isolation: a fresh context with its
// own deadline and connections, every exception turned into an outcome, and
// after a failure or error a look at whether the server is still there (a
// server that crashed or stopped accepting makes the outcome an error that
// says so, unless the check endangers the server and judges its survival
// itself). A hung or dead server costs checks their time, never the run.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <vector>

#include "probe/target.hpp"
#include "runner/check.hpp"
#include "runner/expectations.hpp"
#include "runner/run_result.hpp"

namespace nbdref::conform {

struct RunOptions {
  // Each check's budget for all its connections and waits.
  std::chrono::milliseconds timeout{10'000};
  // Known deviations to compare with; none means every failure and error
  // is a difference.
  const Expectations* expectations = nullptr;
};

// Called before each check (`finished` null) and after it.
using ProgressCallback = std::function<void(std::size_t position, std::size_t total,
                                            const Check& check, const CheckResult* finished)>;

// One check, isolated as described above.
CheckResult run_check(const Target& target, const Check& check, std::chrono::milliseconds timeout);

// Every check of `checks`, in order, compared with the expectations.
RunResult run_checks(const Target& target, const std::vector<const Check*>& checks,
                     const RunOptions& options, const ProgressCallback& progress = {});

// Whether the target greets a fresh connection within `wait`; when it does
// not, `why` says what happened instead.
bool server_answers(const Target& target, std::chrono::milliseconds wait, std::string& why);

}  // namespace nbdref::conform
