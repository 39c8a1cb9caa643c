// NBD URI settings and connecting by URI. The settings are validated and
// kept as libnbd keeps them; this build cannot parse URIs yet and says so as
// a libnbd built without libxml2 would: nbd_supports_uri() is false and
// connecting by URI fails with ENOTSUP.
#include "capi/call.hpp"
#include "capi/export.hpp"
#include "capi/setting_change.hpp"
#include "compat/libnbd.h"

using namespace nbdref;
using capi::change_setting;
using capi::check_tls_mode;
using capi::entry;
using capi::missing;
using handle::HandleSettings;

NBDREF_EXPORT int nbd_set_uri_allow_transports(nbd_handle* h, uint32_t mask) {
  return entry("nbd_set_uri_allow_transports", -1, [&](const char* fn) {
    return change_setting(h, fn, "the URI transports", [mask](HandleSettings& s) -> Result<void> {
      if (mask & ~LIBNBD_ALLOW_TRANSPORT_MASK) {
        return failure(EINVAL, "transport mask " + std::to_string(mask) + " has unknown bits");
      }
      s.uri_allow_transports = mask;
      return {};
    });
  });
}

NBDREF_EXPORT int nbd_set_uri_allow_tls(nbd_handle* h, int tls) {
  return entry("nbd_set_uri_allow_tls", -1, [&](const char* fn) {
    return change_setting(h, fn, "the URI TLS policy", [tls](HandleSettings& s) -> Result<void> {
      if (auto ok = check_tls_mode(tls); !ok) return ok;
      s.uri_allow_tls = tls;
      return {};
    });
  });
}

NBDREF_EXPORT int nbd_set_uri_allow_local_file(nbd_handle* h, bool allow) {
  return entry("nbd_set_uri_allow_local_file", -1, [&](const char* fn) {
    return change_setting(h, fn, "URI local files", [allow](HandleSettings& s) -> Result<void> {
      s.uri_allow_local_file = allow;
      return {};
    });
  });
}

namespace {

constexpr const char* NO_URI_SUPPORT = "this build has no NBD URI support";

}  // namespace

NBDREF_EXPORT int nbd_connect_uri(nbd_handle*, const char* uri) {
  return entry("nbd_connect_uri", -1, [&](const char* fn) {
    if (missing(fn, uri, "uri")) return -1;
    capi::set_error(fn, ENOTSUP, NO_URI_SUPPORT);
    return -1;
  });
}

NBDREF_EXPORT int nbd_aio_connect_uri(nbd_handle*, const char* uri) {
  return entry("nbd_aio_connect_uri", -1, [&](const char* fn) {
    if (missing(fn, uri, "uri")) return -1;
    capi::set_error(fn, ENOTSUP, NO_URI_SUPPORT);
    return -1;
  });
}

NBDREF_EXPORT char* nbd_get_uri(nbd_handle*) {
  return entry("nbd_get_uri", static_cast<char*>(nullptr), [&](const char* fn) -> char* {
    capi::set_error(fn, ENOTSUP, NO_URI_SUPPORT);
    return nullptr;
  });
}
