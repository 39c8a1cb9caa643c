#include "wire/request.hpp"

#include "wire/constants.hpp"
#include "wire/reader.hpp"

namespace nbdref::wire {

void encode_compact_request(const RequestHeader& h, std::uint8_t* out) {
  store_be32(out, NBD_REQUEST_MAGIC);
  store_be16(out + 4, h.flags);
  store_be16(out + 6, h.type);
  store_be64(out + 8, h.cookie);
  store_be64(out + 16, h.offset);
  store_be32(out + 24, static_cast<std::uint32_t>(h.length));
}

void encode_extended_request(const RequestHeader& h, std::uint8_t* out) {
  store_be32(out, NBD_EXTENDED_REQUEST_MAGIC);
  store_be16(out + 4, h.flags);
  store_be16(out + 6, h.type);
  store_be64(out + 8, h.cookie);
  store_be64(out + 16, h.offset);
  store_be64(out + 24, h.length);
}

Decoded<RequestHeader> decode_compact_request(Bytes b) {
  if (auto e = expect_size(b, COMPACT_REQUEST_SIZE, "request header")) return tl::unexpected(*e);
  const auto magic = load_be32(b.data());
  if (magic != NBD_REQUEST_MAGIC) {
    return decode_failure("request magic", magic, "expected 0x25609513");
  }
  return RequestHeader{load_be16(b.data() + 4), load_be16(b.data() + 6), load_be64(b.data() + 8),
                       load_be64(b.data() + 16), load_be32(b.data() + 24)};
}

Decoded<RequestHeader> decode_extended_request(Bytes b) {
  if (auto e = expect_size(b, EXTENDED_REQUEST_SIZE, "extended request header")) {
    return tl::unexpected(*e);
  }
  const auto magic = load_be32(b.data());
  if (magic != NBD_EXTENDED_REQUEST_MAGIC) {
    return decode_failure("extended request magic", magic, "expected 0x21e41c71", "X-C-002");
  }
  return RequestHeader{load_be16(b.data() + 4), load_be16(b.data() + 6), load_be64(b.data() + 8),
                       load_be64(b.data() + 16), load_be64(b.data() + 24)};
}

void encode_block_status_payload(const BlockStatusPayload& p, Writer& w) {
  w.be64(p.effect_length);
  for (auto id : p.context_ids) w.be32(id);
}

Decoded<BlockStatusPayload> decode_block_status_payload(Bytes payload) {
  if (payload.size() < 8 || (payload.size() - 8) % 4 != 0) {
    return decode_failure("block status payload length", payload.size(),
                          "must be 8 + 4 * (number of context ids)", "X-C-018");
  }
  Reader r(payload);
  BlockStatusPayload p;
  p.effect_length = r.be64("block status effect length");
  p.context_ids.reserve(r.remaining() / 4);
  while (r.remaining() > 0) p.context_ids.push_back(r.be32("block status context id"));
  return p;
}

}  // namespace nbdref::wire
