// Creating and closing handles, debugging, names, private data, and what
// the library is.
#include <memory>

#include "capi/call.hpp"
#include "capi/export.hpp"
#include "compat/libnbd.h"

using namespace nbdref;
using capi::entry;
using capi::missing;

NBDREF_EXPORT nbd_handle* nbd_create(void) {
  return entry("nbd_create", static_cast<nbd_handle*>(nullptr),
               [](const char*) { return new nbd_handle; });
}

NBDREF_EXPORT void nbd_close(nbd_handle* h) {
  entry("nbd_close", 0, [&](const char*) {
    delete h;
    return 0;
  });
}

NBDREF_EXPORT int nbd_set_debug(nbd_handle* h, bool debug) {
  h->impl.set_debug(debug);
  return 0;
}

NBDREF_EXPORT int nbd_get_debug(nbd_handle* h) {
  return h->impl.debug() ? 1 : 0;
}

NBDREF_EXPORT int nbd_set_debug_callback(nbd_handle* h, nbd_debug_callback cb) {
  return entry("nbd_set_debug_callback", -1, [&](const char* fn) {
    if (!cb.callback) {
      capi::set_error(fn, EFAULT, "debug_callback.callback must not be NULL");
      capi::FreeOnExit<nbd_debug_callback> release(cb);
      return -1;
    }
    // The handle keeps the callback until it is replaced or the handle closes;
    // the owner frees user_data at that point, exactly once.
    auto owner = std::shared_ptr<capi::FreeOnExit<nbd_debug_callback>>(
        new capi::FreeOnExit<nbd_debug_callback>(cb));
    h->impl.set_debug_callback([cb, owner](const char* context, const std::string& message) {
      cb.callback(cb.user_data, context, message.c_str());
    });
    return 0;
  });
}

NBDREF_EXPORT int nbd_clear_debug_callback(nbd_handle* h) {
  h->impl.set_debug_callback({});
  return 0;
}

NBDREF_EXPORT int nbd_set_handle_name(nbd_handle* h, const char* handle_name) {
  return entry("nbd_set_handle_name", -1, [&](const char* fn) {
    if (missing(fn, handle_name, "handle_name")) return -1;
    h->impl.set_name(handle_name);
    return 0;
  });
}

NBDREF_EXPORT char* nbd_get_handle_name(nbd_handle* h) {
  return entry("nbd_get_handle_name", static_cast<char*>(nullptr),
               [&](const char* fn) { return capi::to_c_string(fn, h->impl.name()); });
}

NBDREF_EXPORT uintptr_t nbd_set_private_data(nbd_handle* h, uintptr_t private_data) {
  return h->impl.exchange_private_data(private_data);
}

NBDREF_EXPORT uintptr_t nbd_get_private_data(nbd_handle* h) {
  return h->impl.private_data();
}

NBDREF_EXPORT const char* nbd_connection_state(nbd_handle* h) {
  return handle::state_name(h->impl.state());
}

NBDREF_EXPORT const char* nbd_get_package_name(nbd_handle*) {
  return "nbdref";
}

NBDREF_EXPORT const char* nbd_get_version(nbd_handle*) {
  return NBDREF_VERSION;
}

// TLS needs GnuTLS: the NBDREF_TLS build option.
NBDREF_EXPORT int nbd_supports_tls(nbd_handle*) {
  return handle::Handle::supports_tls() ? 1 : 0;
}
// URIs need libxml2: the NBDREF_URI build option.
NBDREF_EXPORT int nbd_supports_uri(nbd_handle*) {
#if NBDREF_HAVE_URI
  return 1;
#else
  return 0;
#endif
}

NBDREF_EXPORT int nbd_kill_subprocess(nbd_handle* h, int signum) {
  return entry("nbd_kill_subprocess", -1, [&](const char* fn) {
    if (signum < 0) {
      capi::set_error(fn, EINVAL, "signal number " + std::to_string(signum) + " is negative");
      return -1;
    }
    return capi::to_int(fn, h->impl.kill_subprocess(signum));
  });
}

NBDREF_EXPORT uint64_t nbd_stats_bytes_sent(nbd_handle* h) { return h->impl.stats().bytes_sent; }
NBDREF_EXPORT uint64_t nbd_stats_chunks_sent(nbd_handle* h) { return h->impl.stats().chunks_sent; }
NBDREF_EXPORT uint64_t nbd_stats_bytes_received(nbd_handle* h) {
  return h->impl.stats().bytes_received;
}
NBDREF_EXPORT uint64_t nbd_stats_chunks_received(nbd_handle* h) {
  return h->impl.stats().chunks_received;
}
