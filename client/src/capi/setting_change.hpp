// The settings every TLS and URI setter goes through: changed only before
// connecting, under the handle's lock; and the check of a LIBNBD_TLS_* mode.
#pragma once

#include <functional>
#include <string>

#include "capi/call.hpp"
#include "compat/libnbd.h"

namespace nbdref::capi {

inline int change_setting(nbd_handle* h, const char* fn, const char* setting,
                          const std::function<Result<void>(handle::HandleSettings&)>& apply) {
  return to_int(fn,
                h->impl.change_settings(setting, handle::Handle::SettableUntil::Connect, apply));
}

inline Result<void> check_tls_mode(int tls) {
  if (tls < LIBNBD_TLS_DISABLE || tls > LIBNBD_TLS_REQUIRE) {
    return failure(EINVAL, "TLS mode " + std::to_string(tls) + " is not one of LIBNBD_TLS_*");
  }
  return {};
}

}  // namespace nbdref::capi
