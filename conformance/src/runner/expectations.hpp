// A server's known deviations: one line per check whose outcome against that
// server is not a pass, with the outcome and the reason, e.g.
//
//   # nbdkit 1.32, memory plugin
//   opt.list-with-data   fail   answers NBD_OPT_LIST with data with ... (S-OPT-008)
//
// A run compares every outcome with this list: a failure or error not
// listed, and a listed outcome that did not happen (an unexpected pass
// included), are both differences.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "error/error.hpp"
#include "runner/catalogue.hpp"
#include "runner/outcome.hpp"

namespace nbdref::conform {

struct Expectation {
  std::string check_id;
  Status status = Status::Fail;
  std::string reason;
  std::size_t line = 0;  // in the source file, for messages
};

class Expectations {
 public:
  // Parses the text of an expectation file; `source` names it in errors.
  // Blank lines and lines starting with '#' are skipped; every other line
  // is "CHECK-ID OUTCOME REASON" with OUTCOME one of pass, fail, n/a,
  // error and a non-empty reason. Fails with EINVAL and "SOURCE:LINE: what
  // is wrong" for a malformed line or a check listed twice.
  static Result<Expectations> parse(std::string_view text, std::string source);
  // parse() on a file's contents; fails with the errno of reading it.
  static Result<Expectations> load(const std::string& path);

  const std::string& source() const { return source_; }
  const std::vector<Expectation>& entries() const { return entries_; }
  const Expectation* find(std::string_view check_id) const;

  // "SOURCE:LINE: no check 'x' in the catalogue" for every entry naming a
  // check that does not exist (a typo or a renamed check).
  std::vector<std::string> unknown_checks(const Catalogue& catalogue) const;

 private:
  std::string source_;
  std::vector<Expectation> entries_;
};

// Whether `status` is a difference: with an expectation, any other outcome;
// without one, anything but a pass or not applicable.
bool is_difference(Status status, const Expectation* expectation);

}  // namespace nbdref::conform
