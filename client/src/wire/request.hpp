// Transmission requests (proto.md "Request message"): the compact 28-byte
// header, the extended 32-byte header, and the NBD_CMD_BLOCK_STATUS payload
// of the extended-headers extension.
#pragma once

#include <vector>

#include "wire/bytes.hpp"
#include "wire/decode_error.hpp"
#include "wire/limits.hpp"
#include "wire/writer.hpp"

namespace nbdref::wire {

struct RequestHeader {
  std::uint16_t flags = 0;  // NBD_CMD_FLAG_*
  std::uint16_t type = 0;   // NBD_CMD_*
  std::uint64_t cookie = 0;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;  // 32 bits on the wire in the compact form
};

// Fixed-size encoders for the hot path: they fill exactly
// COMPACT_REQUEST_SIZE / EXTENDED_REQUEST_SIZE bytes at `out`. The compact
// form keeps the low 32 bits of `length`; callers check it fits.
void encode_compact_request(const RequestHeader& h, std::uint8_t* out);
void encode_extended_request(const RequestHeader& h, std::uint8_t* out);

// Decoders for servers: exactly 28 or 32 bytes, magic checked.
Decoded<RequestHeader> decode_compact_request(Bytes b);
Decoded<RequestHeader> decode_extended_request(Bytes b);

// NBD_CMD_BLOCK_STATUS with NBD_CMD_FLAG_PAYLOAD_LEN: effect length, then the
// context ids the client wants (X-C-018).
struct BlockStatusPayload {
  std::uint64_t effect_length = 0;
  std::vector<std::uint32_t> context_ids;
};
void encode_block_status_payload(const BlockStatusPayload& p, Writer& w);
Decoded<BlockStatusPayload> decode_block_status_payload(Bytes payload);

}  // namespace nbdref::wire
