#include "capi/error_state.hpp"

#include "capi/export.hpp"
#include "compat/libnbd.h"

namespace nbdref::capi {
namespace {

struct LastError {
  bool set = false;
  std::string message;
  int errnum = 0;
};

thread_local LastError t_last_error;

}  // namespace

void set_error(const char* function, int errnum, const std::string& message) {
  t_last_error.set = true;
  t_last_error.message = std::string(function) + ": " + message;
  t_last_error.errnum = errnum;
}

}  // namespace nbdref::capi

using nbdref::capi::t_last_error;

NBDREF_EXPORT const char* nbd_get_error(void) {
  return t_last_error.set ? t_last_error.message.c_str() : nullptr;
}

NBDREF_EXPORT int nbd_get_errno(void) {
  return t_last_error.errnum;
}
