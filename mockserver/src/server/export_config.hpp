// What the server says about one export and which of the protocol's
// optional features it offers on it.
#pragma once

#include <cstdint>
#include <string>

#include "wire/option_reply.hpp"

namespace nbdref::mock {

struct ExportConfig {
  std::string name;
  std::string description;
  std::uint64_t size = 0;
  bool read_only = false;
  // Size constraints (proto.md "Size constraints"); 0 leaves one at its
  // default, all three 0 advertises none.
  std::uint32_t minimum_block = 0;
  std::uint32_t preferred_block = 0;
  std::uint32_t maximum_payload = 0;
  bool rotational = false;
  // Features exposed through the transmission flags (proto.md "Transmission flags").
  bool flush = true;
  bool fua = true;
  bool trim = true;
  bool write_zeroes = true;
  bool fast_zero = true;
  bool cache = true;
  bool df = true;
  bool multi_conn = true;

  // Whether NBD_INFO_BLOCK_SIZE goes out unasked: a server with non-default
  // constraints should tell every client (S-SZ-001).
  bool advertises_block_sizes() const;
  // The constraints the server enforces, as NBD_INFO_BLOCK_SIZE carries
  // them: the configured values, the protocol's defaults for the rest
  // (minimum 1, preferred 4096, maximum payload 32 MiB; S-SZ-003).
  wire::InfoBlockSize block_sizes() const;
  // The transmission flags for a client that did or did not negotiate
  // structured replies or extended headers.
  std::uint16_t transmission_flags(bool reply_payloads) const;
};

}  // namespace nbdref::mock
