// What one check found: pass, fail (with what was observed and what the
// clause requires), not applicable (the server does not offer the feature),
// or error (the check could not decide: a timeout, a refused connection, a
// server that died).
#pragma once

#include <string>
#include <string_view>

namespace nbdref::conform {

enum class Status { Pass, Fail, NotApplicable, Error };

// "pass", "fail", "n/a", "error": the words of reports and expectation files.
std::string_view status_name(Status status);

struct Outcome {
  Status status = Status::Pass;
  // Fail: what the server did. NotApplicable and Error: why. Pass: an
  // optional note ("answered NBD_REP_ERR_POLICY").
  std::string observed;
  // Fail: what the clause requires.
  std::string required;
};

}  // namespace nbdref::conform
