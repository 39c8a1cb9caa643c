// The shape shared by every C API function: note which function runs (for
// debug messages), check pointer arguments, call the handle, and turn a
// Result into libnbd's return convention while recording the error.
#pragma once

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>

#include "capi/error_state.hpp"
#include "capi/nbd_handle.hpp"

namespace nbdref::capi {

// -1 (and the error recorded) when `p` is NULL.
inline bool missing(const char* function, const void* p, const char* name) {
  if (p) return false;
  set_error(function, EFAULT, std::string(name) + " must not be NULL");
  return true;
}

// 0 / -1.
inline int to_int(const char* function, const Result<void>& r) {
  if (r) return 0;
  set_error(function, r.error());
  return -1;
}

// 1 / 0 / -1.
inline int to_bool(const char* function, const Result<bool>& r) {
  if (r) return *r ? 1 : 0;
  set_error(function, r.error());
  return -1;
}

// A malloc'd copy the caller frees, or NULL with the error recorded.
inline char* to_c_string(const char* function, const Result<std::string>& r) {
  if (!r) {
    set_error(function, r.error());
    return nullptr;
  }
  char* s = strdup(r->c_str());
  if (!s) set_error(function, ENOMEM, "out of memory");
  return s;
}

}  // namespace nbdref::capi

namespace nbdref::capi {

// Runs the body of C API function `function`: debug messages name it, and no
// exception crosses into C (allocation failure becomes ENOMEM).
template <class R, class Body>
R entry(const char* function, R on_error, Body&& body) {
  handle::ApiContext context(function);
  try {
    return body(function);
  } catch (const std::bad_alloc&) {
    set_error(function, ENOMEM, "out of memory");
  } catch (const std::exception& e) {
    set_error(function, EIO, e.what());
  }
  return on_error;
}

// Calls a C callback's .free once, when the library is done with it.
template <class Callback>
class FreeOnExit {
 public:
  explicit FreeOnExit(const Callback& cb) : cb_(cb) {}
  ~FreeOnExit() {
    if (cb_.free) cb_.free(cb_.user_data);
  }
  FreeOnExit(const FreeOnExit&) = delete;
  FreeOnExit& operator=(const FreeOnExit&) = delete;

 private:
  Callback cb_;
};

}  // namespace nbdref::capi
