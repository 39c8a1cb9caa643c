// What the handshake learned about the export and the connection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "wire/constants.hpp"

namespace nbdref::engine {

enum class Protocol { Oldstyle, Newstyle, FixedNewstyle };

// "oldstyle", "newstyle", "newstyle-fixed": libnbd's names for nbd_get_protocol.
const char* protocol_name(Protocol p);

struct MetaContext {
  std::string name;
  std::uint32_t id = 0;
};

struct BlockSizes {
  std::uint32_t minimum = 0;
  std::uint32_t preferred = 0;
  std::uint32_t maximum = 0;
};

struct ExportInfo {
  bool known = false;  // set once INFO, GO, EXPORT_NAME or an oldstyle greeting described it
  std::uint64_t size = 0;
  std::uint16_t transmission_flags = 0;
  std::optional<BlockSizes> block_sizes;  // only when the server sent NBD_INFO_BLOCK_SIZE
  std::optional<std::string> canonical_name;
  std::optional<std::string> description;

  bool has(wire::TransmissionFlag f) const { return (transmission_flags & f) != 0; }
};

// The negotiated state of one connection.
struct Session {
  bool greeted = false;  // the server's greeting has been read
  Protocol protocol = Protocol::FixedNewstyle;
  std::uint16_t server_handshake_flags = 0;
  std::uint32_t client_flags = 0;
  // The TLS handshake after NBD_OPT_STARTTLS succeeded: everything since
  // went over TLS.
  bool tls_negotiated = false;
  bool structured_replies = false;
  bool extended_headers = false;
  std::vector<MetaContext> meta_contexts;  // contexts selected for this export
  ExportInfo export_info;

  const MetaContext* find_context(std::uint32_t id) const;
};

}  // namespace nbdref::engine
