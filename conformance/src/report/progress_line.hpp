// The progress shown on stderr while checks run: on a terminal one line
// rewritten in place ("[12/57] opt.list-replies ..."), elsewhere (a CI log)
// one line per finished check with its outcome.
#pragma once

#include <cstddef>
#include <cstdio>

#include "runner/run_result.hpp"

namespace nbdref::conform {

class ProgressLine {
 public:
  ProgressLine(std::FILE* out, bool interactive) : out_(out), interactive_(interactive) {}

  // The runner's ProgressCallback.
  void operator()(std::size_t position, std::size_t total, const Check& check,
                  const CheckResult* finished);

 private:
  std::FILE* out_;
  bool interactive_;
};

}  // namespace nbdref::conform
