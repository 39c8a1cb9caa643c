#include "wire/reply.hpp"

#include "wire/constants.hpp"
#include "wire/reader.hpp"

namespace nbdref::wire {

Decoded<ReplyKind> classify_reply_magic(std::uint32_t magic) {
  switch (magic) {
    case NBD_SIMPLE_REPLY_MAGIC:
      return ReplyKind::Simple;
    case NBD_STRUCTURED_REPLY_MAGIC:
      return ReplyKind::Structured;
    case NBD_EXTENDED_REPLY_MAGIC:
      return ReplyKind::Extended;
    default:
      return decode_failure("reply magic", magic,
                            "expected 0x67446698 (simple), 0x668e33ef (structured) or 0x6e8a278c "
                            "(extended)");
  }
}

std::size_t reply_header_size(ReplyKind kind) {
  switch (kind) {
    case ReplyKind::Simple:
      return SIMPLE_REPLY_SIZE;
    case ReplyKind::Structured:
      return STRUCTURED_REPLY_HEADER_SIZE;
    case ReplyKind::Extended:
      return EXTENDED_REPLY_HEADER_SIZE;
  }
  return SIMPLE_REPLY_SIZE;
}

void encode_simple_reply(const SimpleReply& r, Writer& w) {
  w.be32(NBD_SIMPLE_REPLY_MAGIC);
  w.be32(r.error);
  w.be64(r.cookie);
}

Decoded<SimpleReply> decode_simple_reply(Bytes b) {
  if (auto e = expect_size(b, SIMPLE_REPLY_SIZE, "simple reply")) return tl::unexpected(*e);
  const auto magic = load_be32(b.data());
  if (magic != NBD_SIMPLE_REPLY_MAGIC) {
    return decode_failure("simple reply magic", magic, "expected 0x67446698");
  }
  return SimpleReply{load_be32(b.data() + 4), load_be64(b.data() + 8)};
}

void encode_structured_reply_header(const ChunkHeader& h, Writer& w) {
  w.be32(NBD_STRUCTURED_REPLY_MAGIC);
  w.be16(h.flags);
  w.be16(h.type);
  w.be64(h.cookie);
  w.be32(static_cast<std::uint32_t>(h.length));
}

void encode_extended_reply_header(const ChunkHeader& h, Writer& w) {
  w.be32(NBD_EXTENDED_REPLY_MAGIC);
  w.be16(h.flags);
  w.be16(h.type);
  w.be64(h.cookie);
  w.be64(h.offset);
  w.be64(h.length);
}

Decoded<ChunkHeader> decode_structured_reply_header(Bytes b) {
  if (auto e = expect_size(b, STRUCTURED_REPLY_HEADER_SIZE, "structured reply header")) {
    return tl::unexpected(*e);
  }
  const auto magic = load_be32(b.data());
  if (magic != NBD_STRUCTURED_REPLY_MAGIC) {
    return decode_failure("structured reply magic", magic, "expected 0x668e33ef");
  }
  return ChunkHeader{load_be16(b.data() + 4), load_be16(b.data() + 6), load_be64(b.data() + 8), 0,
                     load_be32(b.data() + 16)};
}

Decoded<ChunkHeader> decode_extended_reply_header(Bytes b) {
  if (auto e = expect_size(b, EXTENDED_REPLY_HEADER_SIZE, "extended reply header")) {
    return tl::unexpected(*e);
  }
  const auto magic = load_be32(b.data());
  if (magic != NBD_EXTENDED_REPLY_MAGIC) {
    return decode_failure("extended reply magic", magic, "expected 0x6e8a278c", "X-S-005");
  }
  return ChunkHeader{load_be16(b.data() + 4), load_be16(b.data() + 6), load_be64(b.data() + 8),
                     load_be64(b.data() + 16), load_be64(b.data() + 24)};
}

}  // namespace nbdref::wire
