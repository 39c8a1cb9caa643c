// What a caller can configure on a handle before (and partly during)
// negotiation; the engine gets a copy when it starts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/config.hpp"

namespace nbdref::handle {

struct HandleSettings {
  std::string export_name;
  bool full_info = false;
  bool request_block_size = true;
  bool request_structured_replies = true;
  bool request_extended_headers = true;
  std::uint32_t handshake_flags = wire::NBD_FLAG_FIXED_NEWSTYLE | wire::NBD_FLAG_NO_ZEROES;
  std::uint32_t strict = engine::STRICT_ALL;
  bool pread_initialize = true;
  bool opt_mode = false;
  std::vector<std::string> meta_contexts;

  // TLS (libnbd's LIBNBD_TLS_* for `tls`; only a build with TLS accepts
  // more than LIBNBD_TLS_DISABLE).
  int tls = 0;
  std::optional<std::string> tls_certificates;
  bool tls_verify_peer = true;
  std::optional<std::string> tls_username;  // unset: the local user (Handle::tls_username)
  std::optional<std::string> tls_psk_file;
  // The name the server's certificate must carry, instead of the host given
  // to connect_tcp (a URI's tls-hostname; the only name a Unix socket has).
  std::optional<std::string> tls_hostname;

  // What a URI may ask for (libnbd's LIBNBD_ALLOW_TRANSPORT_* and LIBNBD_TLS_*).
  std::uint32_t uri_allow_transports = 0x07;
  int uri_allow_tls = 1;
  bool uri_allow_local_file = false;
};

}  // namespace nbdref::handle
