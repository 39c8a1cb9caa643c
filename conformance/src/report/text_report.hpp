// The report a person reads: results grouped by area, one line per check,
// the evidence of every failure and error (what was observed, what the
// clause requires, the transcript), the summary and the differences from
// the expectation file. With `verbose`, every check's transcript with bytes.
#pragma once

#include <string>

#include "runner/run_result.hpp"

namespace nbdref::conform {

std::string text_report(const RunResult& run, bool verbose);

// "40 passed, 2 failed, 5 not applicable, 0 errors".
std::string summary_line(const RunSummary& summary);

}  // namespace nbdref::conform
