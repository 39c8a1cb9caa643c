#include "report/text_report.hpp"

#include <cstdio>

#include "probe/printable.hpp"

namespace nbdref::conform {
namespace {

std::string padded(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

std::string label(Status s) {
  switch (s) {
    case Status::Pass:
      return "PASS";
    case Status::Fail:
      return "FAIL";
    case Status::NotApplicable:
      return "N/A";
    case Status::Error:
      return "ERROR";
  }
  return "ERROR";
}

// Every line of `text` indented by `indent`.
std::string indented(const std::string& text, const std::string& indent) {
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out += indent + text.substr(start, end - start) + "\n";
    start = end + 1;
  }
  return out;
}

std::string seconds(std::chrono::milliseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(d.count()) / 1000.0);
  return buf;
}

std::string expectation_text(const Expectation& e) {
  return std::string(status_name(e.status)) + " (" + e.reason + ")";
}

void append_result(std::string& out, const CheckResult& r, bool verbose) {
  const Check& c = *r.check;
  const Outcome& o = r.outcome;
  out += "  " + padded(label(o.status), 6) + " " + padded(c.id, 36) + " " +
         padded(std::string(level_name(c.level)), 11) + " " + c.description + "\n";
  const std::string detail = "           ";
  const bool problem = o.status == Status::Fail || o.status == Status::Error;
  if (problem || verbose) out += detail + "clauses:  " + c.clause_list() + "\n";
  if (!o.observed.empty() && (o.status != Status::Pass || verbose)) {
    const std::string what = o.status == Status::Fail   ? "observed: "
                             : o.status == Status::Pass ? "note:     "
                                                        : "reason:   ";
    out += detail + what + safe_text(o.observed) + "\n";
  }
  if (!o.required.empty()) out += detail + "required: " + safe_text(o.required) + "\n";
  if (r.expectation) {
    out += detail + (r.difference ? "expected: " : "known:    ") +
           safe_text(expectation_text(*r.expectation)) + "\n";
  }
  if (problem || verbose) {
    for (const auto& t : r.transcripts) {
      out += detail + t->label() + ":\n";
      out += indented(safe_text(t->text(verbose)), detail);
    }
  }
}

}  // namespace

std::string summary_line(const RunSummary& s) {
  return std::to_string(s.passed) + " passed, " + std::to_string(s.failed) + " failed, " +
         std::to_string(s.not_applicable) + " not applicable, " + std::to_string(s.errors) +
         (s.errors == 1 ? " error" : " errors");
}

std::string text_report(const RunResult& run, bool verbose) {
  std::string out = "nbdref-conform: " + safe_text(run.target) + "\n";
  if (run.expectation_source) out += "expectations: " + safe_text(*run.expectation_source) + "\n";
  for (const std::string& area : run.areas()) {
    out += "\n" + area + "\n";
    for (const CheckResult* r : run.in_area(area)) append_result(out, *r, verbose);
  }
  const RunSummary s = run.summary();
  std::size_t mandatory_failures = 0;
  for (const CheckResult& r : run.results) {
    if (r.outcome.status == Status::Fail && is_mandatory(r.check->level)) ++mandatory_failures;
  }
  out += "\nSummary: " + summary_line(s) + " (" + std::to_string(s.total()) + " checks in " +
         seconds(run.duration) + ")\n";
  if (s.failed > 0) {
    out += "Failures: " + std::to_string(mandatory_failures) + " of MUST / MUST NOT, " +
           std::to_string(s.failed - mandatory_failures) + " of SHOULD / SHOULD NOT\n";
  }
  out += "Differences" +
         (run.expectation_source ? " from " + safe_text(*run.expectation_source) : std::string()) +
         ": " + std::to_string(s.differences) + "\n";
  for (const CheckResult& r : run.results) {
    if (!r.difference) continue;
    out += "  " + padded(r.check->id, 36) + " " + std::string(status_name(r.outcome.status)) +
           ", expected " +
           (r.expectation ? safe_text(expectation_text(*r.expectation)) : "pass or n/a") + "\n";
  }
  return out;
}

}  // namespace nbdref::conform
