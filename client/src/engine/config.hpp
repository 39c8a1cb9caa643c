// What the engine is asked to negotiate and enforce: the handle's settings
// at the moment it connects.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "wire/constants.hpp"

namespace nbdref::engine {

// Client-side checks, numbered as libnbd's LIBNBD_STRICT_* so the C API can
// pass its mask straight through.
enum StrictCheck : std::uint32_t {
  STRICT_COMMANDS = 0x01,   // only commands and flags the server advertised
  STRICT_FLAGS = 0x02,      // only flags known and meaningful for the command
  STRICT_BOUNDS = 0x04,     // offset + length within the export
  STRICT_ZERO_SIZE = 0x08,  // no zero-length requests
  STRICT_ALIGN = 0x10,      // offset and length aligned to the minimum block size
  STRICT_ALL = 0x1f,
};

// Whether to run the session over TLS (libnbd's LIBNBD_TLS_* values).
enum class TlsMode {
  Disable = 0,  // never send NBD_OPT_STARTTLS
  Allow = 1,    // try STARTTLS first; go on in plaintext if the server cannot
  Require = 2,  // STARTTLS first; anything short of TLS ends the session
};

struct ConnectionConfig {
  std::string export_name;
  bool request_extended_headers = true;
  bool request_structured_replies = true;
  bool request_block_size = true;  // ask for NBD_INFO_BLOCK_SIZE (C-SZ-001)
  bool full_info = false;          // also ask for NBD_INFO_NAME and NBD_INFO_DESCRIPTION
  std::vector<std::string> meta_contexts;
  // Handshake features the client may agree to (libnbd's handshake flags).
  std::uint32_t handshake_flags = wire::NBD_FLAG_FIXED_NEWSTYLE | wire::NBD_FLAG_NO_ZEROES;
  // Stop in the negotiating phase and let the caller choose options.
  bool opt_mode = false;
  // The caller runs the TLS handshake itself when asked (Connection::tls_requested).
  TlsMode tls = TlsMode::Disable;
  std::uint32_t strict = STRICT_ALL;
  // Zero read buffers before reading into them, so a failed read never
  // exposes stale memory.
  bool pread_initialize = true;
};

}  // namespace nbdref::engine
