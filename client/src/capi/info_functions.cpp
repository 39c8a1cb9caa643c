// What the handshake learned about the export.
#include "capi/call.hpp"
#include "capi/export.hpp"
#include "compat/libnbd.h"

using namespace nbdref;
using capi::entry;
using capi::to_bool;

namespace {

int flag(nbd_handle* h, const char* function, wire::TransmissionFlag f) {
  return entry(function, -1, [&](const char* fn) { return to_bool(fn, h->impl.has_flag(f)); });
}

}  // namespace

NBDREF_EXPORT int nbd_is_read_only(nbd_handle* h) {
  return flag(h, "nbd_is_read_only", wire::NBD_FLAG_READ_ONLY);
}
NBDREF_EXPORT int nbd_can_flush(nbd_handle* h) {
  return flag(h, "nbd_can_flush", wire::NBD_FLAG_SEND_FLUSH);
}
NBDREF_EXPORT int nbd_can_fua(nbd_handle* h) {
  return flag(h, "nbd_can_fua", wire::NBD_FLAG_SEND_FUA);
}
NBDREF_EXPORT int nbd_is_rotational(nbd_handle* h) {
  return flag(h, "nbd_is_rotational", wire::NBD_FLAG_ROTATIONAL);
}
NBDREF_EXPORT int nbd_can_trim(nbd_handle* h) {
  return flag(h, "nbd_can_trim", wire::NBD_FLAG_SEND_TRIM);
}
NBDREF_EXPORT int nbd_can_zero(nbd_handle* h) {
  return flag(h, "nbd_can_zero", wire::NBD_FLAG_SEND_WRITE_ZEROES);
}
NBDREF_EXPORT int nbd_can_fast_zero(nbd_handle* h) {
  return flag(h, "nbd_can_fast_zero", wire::NBD_FLAG_SEND_FAST_ZERO);
}
NBDREF_EXPORT int nbd_can_df(nbd_handle* h) {
  return flag(h, "nbd_can_df", wire::NBD_FLAG_SEND_DF);
}
NBDREF_EXPORT int nbd_can_multi_conn(nbd_handle* h) {
  return flag(h, "nbd_can_multi_conn", wire::NBD_FLAG_CAN_MULTI_CONN);
}
NBDREF_EXPORT int nbd_can_cache(nbd_handle* h) {
  return flag(h, "nbd_can_cache", wire::NBD_FLAG_SEND_CACHE);
}

NBDREF_EXPORT int nbd_can_meta_context(nbd_handle* h, const char* metacontext) {
  return entry("nbd_can_meta_context", -1, [&](const char* fn) {
    if (capi::missing(fn, metacontext, "metacontext")) return -1;
    return to_bool(fn, h->impl.can_meta_context(metacontext));
  });
}

NBDREF_EXPORT int nbd_get_structured_replies_negotiated(nbd_handle* h) {
  return entry("nbd_get_structured_replies_negotiated", -1, [&](const char* fn) {
    return to_bool(fn, h->impl.structured_replies_negotiated());
  });
}

NBDREF_EXPORT int nbd_get_extended_headers_negotiated(nbd_handle* h) {
  return entry("nbd_get_extended_headers_negotiated", -1, [&](const char* fn) {
    return to_bool(fn, h->impl.extended_headers_negotiated());
  });
}

NBDREF_EXPORT const char* nbd_get_protocol(nbd_handle* h) {
  return entry("nbd_get_protocol", static_cast<const char*>(nullptr),
               [&](const char* fn) -> const char* {
                 auto p = h->impl.protocol();
                 if (!p) {
                   capi::set_error(fn, p.error());
                   return nullptr;
                 }
                 // The caller does not free the result: hand out the static names.
                 for (auto proto : {engine::Protocol::Oldstyle, engine::Protocol::Newstyle,
                                    engine::Protocol::FixedNewstyle}) {
                   if (*p == engine::protocol_name(proto)) return engine::protocol_name(proto);
                 }
                 return nullptr;
               });
}

NBDREF_EXPORT int64_t nbd_get_size(nbd_handle* h) {
  return entry("nbd_get_size", int64_t{-1}, [&](const char* fn) -> int64_t {
    auto s = h->impl.export_size();
    if (!s) {
      capi::set_error(fn, s.error());
      return -1;
    }
    if (*s > static_cast<std::uint64_t>(INT64_MAX)) {
      capi::set_error(fn, EOVERFLOW, "the export size does not fit in a signed 64-bit integer");
      return -1;
    }
    return static_cast<int64_t>(*s);
  });
}

NBDREF_EXPORT int64_t nbd_get_block_size(nbd_handle* h, int size_type) {
  return entry("nbd_get_block_size", int64_t{-1}, [&](const char* fn) -> int64_t {
    if (size_type < LIBNBD_SIZE_MINIMUM || size_type > LIBNBD_SIZE_MAXIMUM) {
      capi::set_error(fn, EINVAL, "unknown size_type " + std::to_string(size_type));
      return -1;
    }
    auto s = h->impl.block_size(static_cast<handle::BlockSizeKind>(size_type));
    if (!s) {
      capi::set_error(fn, s.error());
      return -1;
    }
    return *s;
  });
}

NBDREF_EXPORT char* nbd_get_canonical_export_name(nbd_handle* h) {
  return entry("nbd_get_canonical_export_name", static_cast<char*>(nullptr), [&](const char* fn) {
    return capi::to_c_string(fn, h->impl.canonical_export_name());
  });
}

NBDREF_EXPORT char* nbd_get_export_description(nbd_handle* h) {
  return entry("nbd_get_export_description", static_cast<char*>(nullptr),
               [&](const char* fn) { return capi::to_c_string(fn, h->impl.export_description()); });
}
