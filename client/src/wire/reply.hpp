// Transmission reply headers (proto.md "Simple reply message", "Structured
// reply chunk message", proto-extended-headers.md "Extended reply chunk
// message").
#pragma once

#include "wire/bytes.hpp"
#include "wire/decode_error.hpp"
#include "wire/limits.hpp"
#include "wire/writer.hpp"

namespace nbdref::wire {

enum class ReplyKind { Simple, Structured, Extended };

// Which header follows, from its first 4 bytes.
Decoded<ReplyKind> classify_reply_magic(std::uint32_t magic);
// Total header size of each kind (16, 20 or 32 bytes, magic included).
std::size_t reply_header_size(ReplyKind kind);

struct SimpleReply {
  std::uint32_t error = 0;  // NBD_E*, 0 for success
  std::uint64_t cookie = 0;
};
void encode_simple_reply(const SimpleReply& r, Writer& w);
Decoded<SimpleReply> decode_simple_reply(Bytes b);

// The header of one structured or extended reply chunk. `offset` exists on
// the wire only in the extended form; `length` is 32 bits in the structured one.
struct ChunkHeader {
  std::uint16_t flags = 0;  // NBD_REPLY_FLAG_*
  std::uint16_t type = 0;   // NBD_REPLY_TYPE_*
  std::uint64_t cookie = 0;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;  // payload bytes that follow
};
void encode_structured_reply_header(const ChunkHeader& h, Writer& w);
void encode_extended_reply_header(const ChunkHeader& h, Writer& w);
Decoded<ChunkHeader> decode_structured_reply_header(Bytes b);
Decoded<ChunkHeader> decode_extended_reply_header(Bytes b);

}  // namespace nbdref::wire
