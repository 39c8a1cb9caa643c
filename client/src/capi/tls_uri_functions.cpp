// TLS and URI settings. They are validated and kept as libnbd keeps them;
// this build cannot negotiate TLS or parse URIs yet, and says so exactly as
// a libnbd built without GnuTLS or libxml2 would: nbd_supports_tls() and
// nbd_supports_uri() are false, nbd_set_tls() above LIBNBD_TLS_DISABLE
// fails with ENOTSUP, and connecting by URI fails with ENOTSUP.
#include <pwd.h>
#include <unistd.h>

#include <cstdlib>

#include "capi/call.hpp"
#include "capi/export.hpp"
#include "compat/libnbd.h"

using namespace nbdref;
using capi::entry;
using capi::missing;
using capi::to_int;
using handle::HandleSettings;
using Until = handle::Handle::SettableUntil;

namespace {

int change(nbd_handle* h, const char* fn, const char* setting,
           const std::function<Result<void>(HandleSettings&)>& apply) {
  return to_int(fn, h->impl.change_settings(setting, Until::Connect, apply));
}

Result<void> check_tls_mode(int tls) {
  if (tls < LIBNBD_TLS_DISABLE || tls > LIBNBD_TLS_REQUIRE) {
    return failure(EINVAL, "TLS mode " + std::to_string(tls) + " is not one of LIBNBD_TLS_*");
  }
  return {};
}

}  // namespace

NBDREF_EXPORT int nbd_set_tls(nbd_handle* h, int tls) {
  return entry("nbd_set_tls", -1, [&](const char* fn) {
    return change(h, fn, "the TLS mode", [tls](HandleSettings& s) -> Result<void> {
      if (auto ok = check_tls_mode(tls); !ok) return ok;
      // As a libnbd built without GnuTLS: asking for TLS fails at once.
      if (tls != LIBNBD_TLS_DISABLE) {
        return failure(ENOTSUP, "this build has no TLS support (see nbd_supports_tls)");
      }
      s.tls = tls;
      return {};
    });
  });
}
NBDREF_EXPORT int nbd_get_tls(nbd_handle* h) { return h->impl.settings().tls; }

NBDREF_EXPORT int nbd_get_tls_negotiated(nbd_handle* h) {
  return entry("nbd_get_tls_negotiated", -1, [&](const char* fn) {
    // Asking needs a connection; the answer is always no in this build.
    auto connected = h->impl.structured_replies_negotiated();
    if (!connected) {
      capi::set_error(fn, connected.error());
      return -1;
    }
    return 0;
  });
}

NBDREF_EXPORT int nbd_set_tls_certificates(nbd_handle* h, const char* dir) {
  return entry("nbd_set_tls_certificates", -1, [&](const char* fn) {
    if (missing(fn, dir, "dir")) return -1;
    return change(h, fn, "the TLS certificates", [dir](HandleSettings& s) -> Result<void> {
      s.tls_certificates = dir;
      return {};
    });
  });
}

NBDREF_EXPORT int nbd_set_tls_verify_peer(nbd_handle* h, bool verify) {
  return entry("nbd_set_tls_verify_peer", -1, [&](const char* fn) {
    return change(h, fn, "TLS peer verification", [verify](HandleSettings& s) -> Result<void> {
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
    return change(h, fn, "the TLS username", [username](HandleSettings& s) -> Result<void> {
      s.tls_username = username;
      return {};
    });
  });
}

NBDREF_EXPORT char* nbd_get_tls_username(nbd_handle* h) {
  return entry("nbd_get_tls_username", static_cast<char*>(nullptr), [&](const char* fn) {
    // Unset, it is the local user's name: $LOGNAME, else the password entry.
    Result<std::string> name = [&]() -> Result<std::string> {
      if (auto set = h->impl.settings().tls_username) return *set;
      if (const char* logname = std::getenv("LOGNAME")) return std::string(logname);
      if (const passwd* pw = getpwuid(geteuid())) return std::string(pw->pw_name);
      return failure(ENOENT, "no TLS username is set and the local user has no name");
    }();
    return capi::to_c_string(fn, name);
  });
}

NBDREF_EXPORT int nbd_set_tls_psk_file(nbd_handle* h, const char* filename) {
  return entry("nbd_set_tls_psk_file", -1, [&](const char* fn) {
    if (missing(fn, filename, "filename")) return -1;
    return change(h, fn, "the TLS PSK file", [filename](HandleSettings& s) -> Result<void> {
      s.tls_psk_file = filename;
      return {};
    });
  });
}

NBDREF_EXPORT int nbd_set_uri_allow_transports(nbd_handle* h, uint32_t mask) {
  return entry("nbd_set_uri_allow_transports", -1, [&](const char* fn) {
    return change(h, fn, "the URI transports", [mask](HandleSettings& s) -> Result<void> {
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
    return change(h, fn, "the URI TLS policy", [tls](HandleSettings& s) -> Result<void> {
      if (auto ok = check_tls_mode(tls); !ok) return ok;
      s.uri_allow_tls = tls;
      return {};
    });
  });
}

NBDREF_EXPORT int nbd_set_uri_allow_local_file(nbd_handle* h, bool allow) {
  return entry("nbd_set_uri_allow_local_file", -1, [&](const char* fn) {
    return change(h, fn, "URI local files", [allow](HandleSettings& s) -> Result<void> {
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
