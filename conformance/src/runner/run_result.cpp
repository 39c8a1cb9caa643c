#include "runner/run_result.hpp"

#include <algorithm>

namespace nbdref::conform {

RunSummary RunResult::summary() const {
  RunSummary s;
  for (const CheckResult& r : results) {
    switch (r.outcome.status) {
      case Status::Pass:
        ++s.passed;
        break;
      case Status::Fail:
        ++s.failed;
        break;
      case Status::NotApplicable:
        ++s.not_applicable;
        break;
      case Status::Error:
        ++s.errors;
        break;
    }
    if (r.difference) ++s.differences;
  }
  return s;
}

std::vector<const CheckResult*> RunResult::in_area(const std::string& area) const {
  std::vector<const CheckResult*> out;
  for (const CheckResult& r : results) {
    if (r.check->area == area) out.push_back(&r);
  }
  return out;
}

std::vector<std::string> RunResult::areas() const {
  std::vector<std::string> out;
  for (const CheckResult& r : results) {
    if (std::find(out.begin(), out.end(), r.check->area) == out.end()) out.push_back(r.check->area);
  }
  return out;
}

}  // namespace nbdref::conform
