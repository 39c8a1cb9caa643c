#include "runner/runner.hpp"

#include <algorithm>

#include "probe/probe.hpp"
#include "probe/probe_error.hpp"
#include "runner/check_context.hpp"

namespace nbdref::conform {
namespace {

using Clock = std::chrono::steady_clock;

// How long a server gets to greet the liveness probe after a failed check.
constexpr std::chrono::milliseconds kLivenessWait{5'000};

std::string seconds_text(std::chrono::milliseconds d) {
  const auto s = d.count() / 1000;
  const auto tenths = (d.count() % 1000) / 100;
  return std::to_string(s) + (tenths ? "." + std::to_string(tenths) : "") + " s";
}

// What a failed check says the server must do: its own description and
// clauses, or, for a protocol violation of a clause the check does not cite
// (found on the way, by the probe's strict decoding), that clause first.
std::string required_of(const ProbeError& e, const Check& check) {
  const std::string own = check.description + " [" + check.clause_list() + "]";
  const auto& cited = check.clauses;
  if (e.kind() != ProbeError::Kind::Violation || e.clause().empty() ||
      std::find(cited.begin(), cited.end(), e.clause()) != cited.end()) {
    return own;
  }
  return "every message the server sends is well formed by the clause it breaks [" + e.clause() +
         "], whatever the check looks at (here: " + own + ")";
}

Outcome outcome_of(const ProbeError& e, const Check& check, std::chrono::milliseconds timeout) {
  const std::string required = required_of(e, check);
  switch (e.kind()) {
    case ProbeError::Kind::Timeout:
      return {Status::Error,
              "no answer within the check's " + seconds_text(timeout) + ": " + e.what(),
              {}};
    case ProbeError::Kind::Closed:
    case ProbeError::Kind::Violation:
      return {Status::Fail, e.what(), required};
    case ProbeError::Kind::Io:
    case ProbeError::Kind::Connect:
      return {Status::Error, e.what(), {}};
  }
  return {Status::Error, e.what(), {}};
}

std::string finding(const Outcome& o) {
  return std::string(status_name(o.status)) + ": " + o.observed;
}

}  // namespace

bool server_answers(const Target& target, std::chrono::milliseconds wait, std::string& why) {
  try {
    auto transcript = std::make_shared<Transcript>("liveness probe");
    Probe probe(ByteChannel::open(target, Deadline::after(wait), transcript));
    probe.read_greeting();
    return true;
  } catch (const ProbeError& e) {
    why = e.what();
    return false;
  }
}

CheckResult run_check(const Target& target, const Check& check, std::chrono::milliseconds timeout) {
  const auto start = Clock::now();
  CheckResult result;
  result.check = &check;
  {
    CheckContext ctx(target, Deadline::after(timeout), check.index);
    try {
      result.outcome = check.run(ctx);
    } catch (const CheckAbort& a) {
      result.outcome = {a.status, a.reason, a.required};
      if (a.status == Status::Fail && a.required.empty()) {
        result.outcome.required = check.description + " [" + check.clause_list() + "]";
      }
    } catch (const ProbeError& e) {
      result.outcome = outcome_of(e, check, timeout);
    } catch (const std::exception& e) {
      result.outcome = {Status::Error, std::string("internal error in the check: ") + e.what(), {}};
    }
    // The check's connections are closed by now (its probes were locals), so
    // each transcript says how a server started for it ended.
    result.transcripts = ctx.transcripts();
  }
  const bool crashed = std::any_of(result.transcripts.begin(), result.transcripts.end(),
                                   [](const auto& t) { return t->server_crashed(); });
  // A check that endangers the server judges its survival itself.
  const bool judged_by_runner = !check.endangers_server;
  if (judged_by_runner && crashed) {
    result.outcome = {Status::Error,
                      "the server process was killed by a signal during the check (see the "
                      "transcript); the check had found " +
                          finding(result.outcome),
                      {}};
  } else if (judged_by_runner && target.persistent() &&
             (result.outcome.status == Status::Fail || result.outcome.status == Status::Error)) {
    std::string why;
    if (!server_answers(target, std::min(timeout, kLivenessWait), why)) {
      result.outcome = {Status::Error,
                        "the server stopped answering during this check (" + why +
                            "); the check had found " + finding(result.outcome),
                        {}};
    }
  }
  result.duration = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  return result;
}

RunResult run_checks(const Target& target, const std::vector<const Check*>& checks,
                     const RunOptions& options, const ProgressCallback& progress) {
  const auto start = Clock::now();
  RunResult run;
  run.target = target.describe();
  if (options.expectations) run.expectation_source = options.expectations->source();
  for (std::size_t i = 0; i < checks.size(); ++i) {
    const Check& check = *checks[i];
    if (progress) progress(i + 1, checks.size(), check, nullptr);
    CheckResult result = run_check(target, check, options.timeout);
    const Expectation* expected =
        options.expectations ? options.expectations->find(check.id) : nullptr;
    if (expected) result.expectation = *expected;
    result.difference = is_difference(result.outcome.status, expected);
    run.results.push_back(std::move(result));
    if (progress) progress(i + 1, checks.size(), check, &run.results.back());
  }
  run.duration = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  return run;
}

}  // namespace nbdref::conform
