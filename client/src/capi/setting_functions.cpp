// Settings that shape the handshake.
#include "capi/call.hpp"
#include "capi/export.hpp"
#include "compat/libnbd.h"

using namespace nbdref;
using capi::entry;
using capi::missing;
using capi::to_int;

NBDREF_EXPORT int nbd_set_export_name(nbd_handle* h, const char* export_name) {
  return entry("nbd_set_export_name", -1, [&](const char* fn) {
    if (missing(fn, export_name, "export_name")) return -1;
    return to_int(fn, h->impl.set_export_name(export_name));
  });
}

NBDREF_EXPORT char* nbd_get_export_name(nbd_handle* h) {
  return entry("nbd_get_export_name", static_cast<char*>(nullptr),
               [&](const char* fn) { return capi::to_c_string(fn, h->impl.export_name()); });
}

NBDREF_EXPORT int nbd_set_request_block_size(nbd_handle* h, bool request) {
  return entry("nbd_set_request_block_size", -1,
               [&](const char* fn) { return to_int(fn, h->impl.set_request_block_size(request)); });
}
NBDREF_EXPORT int nbd_get_request_block_size(nbd_handle* h) {
  return h->impl.request_block_size() ? 1 : 0;
}

NBDREF_EXPORT int nbd_set_full_info(nbd_handle* h, bool request) {
  return entry("nbd_set_full_info", -1,
               [&](const char* fn) { return to_int(fn, h->impl.set_full_info(request)); });
}
NBDREF_EXPORT int nbd_get_full_info(nbd_handle* h) {
  return h->impl.full_info() ? 1 : 0;
}

NBDREF_EXPORT int nbd_set_request_structured_replies(nbd_handle* h, bool request) {
  return entry("nbd_set_request_structured_replies", -1, [&](const char* fn) {
    return to_int(fn, h->impl.set_request_structured_replies(request));
  });
}
NBDREF_EXPORT int nbd_get_request_structured_replies(nbd_handle* h) {
  return h->impl.request_structured_replies() ? 1 : 0;
}

NBDREF_EXPORT int nbd_set_handshake_flags(nbd_handle* h, uint32_t flags) {
  return entry("nbd_set_handshake_flags", -1,
               [&](const char* fn) { return to_int(fn, h->impl.set_handshake_flags(flags)); });
}
NBDREF_EXPORT uint32_t nbd_get_handshake_flags(nbd_handle* h) {
  return h->impl.handshake_flags();
}

NBDREF_EXPORT int nbd_set_pread_initialize(nbd_handle* h, bool request) {
  h->impl.set_pread_initialize(request);
  return 0;
}
NBDREF_EXPORT int nbd_get_pread_initialize(nbd_handle* h) {
  return h->impl.pread_initialize() ? 1 : 0;
}

NBDREF_EXPORT int nbd_set_strict_mode(nbd_handle* h, uint32_t flags) {
  return entry("nbd_set_strict_mode", -1,
               [&](const char* fn) { return to_int(fn, h->impl.set_strict_mode(flags)); });
}
NBDREF_EXPORT uint32_t nbd_get_strict_mode(nbd_handle* h) {
  return h->impl.strict_mode();
}

NBDREF_EXPORT int nbd_add_meta_context(nbd_handle* h, const char* name) {
  return entry("nbd_add_meta_context", -1, [&](const char* fn) {
    if (missing(fn, name, "name")) return -1;
    return to_int(fn, h->impl.add_meta_context(name));
  });
}

NBDREF_EXPORT ssize_t nbd_get_nr_meta_contexts(nbd_handle* h) {
  return static_cast<ssize_t>(h->impl.meta_context_count());
}

NBDREF_EXPORT char* nbd_get_meta_context(nbd_handle* h, size_t i) {
  return entry("nbd_get_meta_context", static_cast<char*>(nullptr),
               [&](const char* fn) { return capi::to_c_string(fn, h->impl.meta_context(i)); });
}

NBDREF_EXPORT int nbd_clear_meta_contexts(nbd_handle* h) {
  return entry("nbd_clear_meta_contexts", -1,
               [&](const char* fn) { return to_int(fn, h->impl.clear_meta_contexts()); });
}

NBDREF_EXPORT int nbd_set_request_extended_headers(nbd_handle* h, bool request) {
  return entry("nbd_set_request_extended_headers", -1, [&](const char* fn) {
    return to_int(fn, h->impl.set_request_extended_headers(request));
  });
}
NBDREF_EXPORT int nbd_get_request_extended_headers(nbd_handle* h) {
  return h->impl.request_extended_headers() ? 1 : 0;
}
