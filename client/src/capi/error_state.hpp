// The calling thread's last error, as nbd_get_error() and nbd_get_errno()
// report it: "function: message" and an errno value.
#pragma once

#include <string>

#include "error/error.hpp"

namespace nbdref::capi {

void set_error(const char* function, int errnum, const std::string& message);
inline void set_error(const char* function, const Error& e) {
  set_error(function, e.errnum, e.message);
}

}  // namespace nbdref::capi
