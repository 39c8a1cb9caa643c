// TLS settings (nbd_set_tls and its companions) and what came of them. The
// settings are validated and kept as libnbd keeps them; a build without TLS
// answers as a libnbd built without GnuTLS would: nbd_supports_tls() is
// false and nbd_set_tls() above LIBNBD_TLS_DISABLE fails with ENOTSUP.
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

NBDREF_EXPORT int nbd_set_tls(nbd_handle* h, int tls) {
  return entry("nbd_set_tls", -1, [&](const char* fn) {
    return change_setting(h, fn, "the TLS mode", [tls](HandleSettings& s) -> Result<void> {
      if (auto ok = check_tls_mode(tls); !ok) return ok;
      // As a libnbd built without GnuTLS: asking for TLS fails at once.
      if (tls != LIBNBD_TLS_DISABLE && !handle::Handle::supports_tls()) {
        return failure(ENOTSUP, "this build has no TLS support (see nbd_supports_tls)");
      }
      s.tls = tls;
      return {};
    });
  });
}
NBDREF_EXPORT int nbd_get_tls(nbd_handle* h) {
  return h->impl.settings().tls;
}

NBDREF_EXPORT int nbd_get_tls_negotiated(nbd_handle* h) {
  return entry("nbd_get_tls_negotiated", -1,
               [&](const char* fn) { return capi::to_bool(fn, h->impl.tls_negotiated()); });
}

NBDREF_EXPORT int nbd_set_tls_certificates(nbd_handle* h, const char* dir) {
  return entry("nbd_set_tls_certificates", -1, [&](const char* fn) {
    if (missing(fn, dir, "dir")) return -1;
    return change_setting(h, fn, "the TLS certificates", [dir](HandleSettings& s) -> Result<void> {
      s.tls_certificates = dir;
      return {};
    });
  });
}

NBDREF_EXPORT int nbd_set_tls_verify_peer(nbd_handle* h, bool verify) {
  return entry("nbd_set_tls_verify_peer", -1, [&](const char* fn) {
    return change_setting(h, fn, "TLS peer verification",
                          [verify](HandleSettings& s) -> Result<void> {
                            s.tls_verify_peer = verify;
                            return {};
                          });
  });
}
NBDREF_EXPORT int nbd_get_tls_verify_peer(nbd_handle* h) {
  return h->impl.settings().tls_verify_peer ? 1 : 0;
}

NBDREF_EXPORT int nbd_set_tls_username(nbd_handle* h, const char* username) {
  return entry("nbd_set_tls_username", -1, [&](const char* fn) {
    if (missing(fn, username, "username")) return -1;
    return change_setting(h, fn, "the TLS username", [username](HandleSettings& s) -> Result<void> {
      s.tls_username = username;
      return {};
    });
  });
}

NBDREF_EXPORT char* nbd_get_tls_username(nbd_handle* h) {
  return entry("nbd_get_tls_username", static_cast<char*>(nullptr), [&](const char* fn) {
    // Unset, it is the local user's name: $LOGNAME, else the password entry.
    return capi::to_c_string(fn, h->impl.tls_username());
  });
}

NBDREF_EXPORT int nbd_set_tls_psk_file(nbd_handle* h, const char* filename) {
  return entry("nbd_set_tls_psk_file", -1, [&](const char* fn) {
    if (missing(fn, filename, "filename")) return -1;
    return change_setting(h, fn, "the TLS PSK file", [filename](HandleSettings& s) -> Result<void> {
      s.tls_psk_file = filename;
      return {};
    });
  });
}
