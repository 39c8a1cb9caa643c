// The run as JUnit XML, the format CI systems read: <testsuites> holding one
// <testsuite> per area, one <testcase> per check, and tests / failures /
// errors / skipped counts that match the children. Differences become
// <failure> (an unexpected failure or an unexpected pass) or <error> (an
// unexpected error); outcomes that are as expected -- not applicable, or a
// known deviation from the expectation file -- become <skipped> with the
// reason, so a run matching its expectations reads as green. Without an
// expectation file every failure is a difference. Written with libxml2's
// xmlTextWriter.
#pragma once

#include <string>

#include "error/error.hpp"
#include "runner/run_result.hpp"

namespace nbdref::conform {

// The XML document. Fails with EIO when libxml2 reports an error.
Result<std::string> junit_report(const RunResult& run);

}  // namespace nbdref::conform
