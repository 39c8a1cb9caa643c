// The failure every layer above the wire codec reports: an errno value, as
// the C API must expose it, and a message a person can act on.
#pragma once

#include <string>

#include <tl/expected.hpp>

namespace nbdref {

struct Error {
  int errnum = 0;
  std::string message;
};

template <class T>
using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> failure(int errnum, std::string message) {
  return tl::unexpected(Error{errnum, std::move(message)});
}

// "message: strerror(errnum)", for failures of system calls.
std::string with_strerror(const std::string& message, int errnum);

}  // namespace nbdref
