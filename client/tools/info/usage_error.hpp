// A command line the tool cannot act on. main() answers it with the message,
// the usage line and exit status 2, which tells scripts "you called me wrong"
// apart from "the server failed" (status 1).
#pragma once

#include <stdexcept>

namespace nbdref::info {

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace nbdref::info
