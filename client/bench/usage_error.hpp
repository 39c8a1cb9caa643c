// A command line the benchmark cannot act on. main() answers it with the
// message, the usage text and exit status 2, which tells scripts "called
// wrong" apart from "the run failed" (status 1).
#pragma once

#include <stdexcept>

namespace nbdref::bench {

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace nbdref::bench
