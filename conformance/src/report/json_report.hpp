// The run as one JSON document, for tools: the target, the summary, and per
// check its descriptor, outcome, evidence, expectation and transcripts
// (with the kept bytes in hex). Written by hand: strings are escaped as
// RFC 8259 requires, and bytes that are not valid UTF-8 are shown as
// "\xNN" text (see safe_text), so the output is always valid JSON.
#pragma once

#include <string>
#include <string_view>

#include "runner/run_result.hpp"

namespace nbdref::conform {

std::string json_report(const RunResult& run, std::string_view tool_version);

// `s` as a JSON string literal, quotes included.
std::string json_string(std::string_view s);

}  // namespace nbdref::conform
