// What a caller can configure on a handle before (and partly during)
// negotiation; the engine gets a copy when it starts.
#pragma once

#include <cstdint>
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
};

}  // namespace nbdref::handle
