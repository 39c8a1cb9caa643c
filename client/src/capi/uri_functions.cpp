// NBD URI settings, connecting by URI and the URI of a connection
// (nbd_connect_uri(3), nbd_get_uri(3) and the nbd_set_uri_allow_*(3)
// policy). Built with NBDREF_URI, URIs are read with libxml2 (uri/); built
// without, nbd_supports_uri() is false and every URI call fails with
// ENOTSUP, as in a libnbd built without libxml2. The policy settings are
// validated and kept either way.
#include "capi/call.hpp"
#include "capi/export.hpp"
#include "capi/setting_change.hpp"
#include "compat/libnbd.h"
#if NBDREF_HAVE_URI
#include "uri/nbd_uri.hpp"
#include "uri/uri_connect.hpp"
#endif

using namespace nbdref;
using capi::change_setting;
using capi::check_tls_mode;
using capi::entry;
using capi::missing;
using capi::to_int;
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

#if NBDREF_HAVE_URI

namespace {

// nbd_connect_uri and nbd_aio_connect_uri: parse, check the handle's
// policy, apply the settings, note the address for nbd_get_uri, connect.
int connect_by_uri(nbd_handle* h, const char* fn, const char* text, bool wait) {
  if (missing(fn, text, "uri")) return -1;
  // The handle's state first, as every connect call: a used handle is the
  // error whatever the URI says.
  if (auto ok = uri::need_new_handle(h->impl); !ok) return to_int(fn, ok);
  auto parsed = uri::parse_nbd_uri(text);
  if (!parsed) {
    capi::set_error(fn, parsed.error());
    return -1;
  }
  auto connector = uri::prepare_uri_connect(h->impl, *parsed, nbd_supports_tls(h) != 0);
  if (!connector) {
    capi::set_error(fn, connector.error());
    return -1;
  }
  h->endpoint.remember(h->impl, *parsed);
  return to_int(fn, wait ? h->impl.connect(std::move(*connector))
                         : h->impl.start_connect(std::move(*connector)));
}

}  // namespace

NBDREF_EXPORT int nbd_connect_uri(nbd_handle* h, const char* uri) {
  return entry("nbd_connect_uri", -1,
               [&](const char* fn) { return connect_by_uri(h, fn, uri, true); });
}

NBDREF_EXPORT int nbd_aio_connect_uri(nbd_handle* h, const char* uri) {
  return entry("nbd_aio_connect_uri", -1,
               [&](const char* fn) { return connect_by_uri(h, fn, uri, false); });
}

NBDREF_EXPORT char* nbd_get_uri(nbd_handle* h) {
  return entry("nbd_get_uri", static_cast<char*>(nullptr), [&](const char* fn) {
    return capi::to_c_string(fn, uri::connection_uri(h->impl, h->endpoint.get()));
  });
}

#else  // !NBDREF_HAVE_URI

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

#endif  // NBDREF_HAVE_URI
