#include "error/error.hpp"

#include <cstring>

namespace nbdref {

std::string with_strerror(const std::string& message, int errnum) {
  char buf[256];
  // GNU strerror_r returns the message, which may or may not live in buf.
  const char* text = strerror_r(errnum, buf, sizeof buf);
  return message + ": " + text;
}

}  // namespace nbdref
