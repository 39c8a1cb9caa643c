#include "wire/chunk.hpp"

#include "wire/constants.hpp"
#include "wire/limits.hpp"
#include "wire/reader.hpp"
#include "wire/strings.hpp"

namespace nbdref::wire {

std::optional<DecodeError> check_none_chunk(std::uint64_t length) {
  if (length == 0) return std::nullopt;
  return DecodeError{"NBD_REPLY_TYPE_NONE length", length, "must be 0", "S-SR-018"};
}

void encode_offset_data(const OffsetData& d, Writer& w) {
  w.be64(d.offset);
  w.bytes(d.data);
}

std::optional<DecodeError> check_offset_data_length(std::uint64_t length) {
  if (length > OFFSET_DATA_PREFIX_SIZE) return std::nullopt;
  return DecodeError{"NBD_REPLY_TYPE_OFFSET_DATA length", length, "must be at least 9", "S-SR-020"};
}

Decoded<OffsetData> decode_offset_data(Bytes payload) {
  if (auto e = check_offset_data_length(payload.size())) return tl::unexpected(*e);
  return OffsetData{load_be64(payload.data()), payload.subspan(OFFSET_DATA_PREFIX_SIZE)};
}

void encode_offset_hole(const OffsetHole& h, Writer& w) {
  w.be64(h.offset);
  w.be32(h.length);
}

Decoded<OffsetHole> decode_offset_hole(Bytes payload) {
  if (payload.size() != OFFSET_HOLE_SIZE) {
    return decode_failure("NBD_REPLY_TYPE_OFFSET_HOLE length", payload.size(), "must be exactly 12",
                          "S-SR-024");
  }
  OffsetHole h{load_be64(payload.data()), load_be32(payload.data() + 8)};
  if (h.length == 0) {
    return decode_failure("NBD_REPLY_TYPE_OFFSET_HOLE hole size", 0, "must be nonzero", "S-SR-025");
  }
  return h;
}

BlockDescriptor BlockStatusView::operator[](std::size_t i) const {
  const std::uint8_t* p = descriptors_.data() + i * descriptor_size();
  if (wide_) return {load_be64(p), load_be64(p + 8)};
  return {load_be32(p), load_be32(p + 4)};
}

namespace {

std::optional<DecodeError> check_extent_lengths(const BlockStatusView& v, const char* field,
                                                const char* clause) {
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i].length == 0) {
      return DecodeError{field, i, "has length 0; extents must be nonzero", clause};
    }
  }
  return std::nullopt;
}

}  // namespace

Decoded<BlockStatusView> decode_block_status(Bytes payload) {
  if (payload.size() < 4 + BLOCK_STATUS_DESCRIPTOR_SIZE ||
      (payload.size() - 4) % BLOCK_STATUS_DESCRIPTOR_SIZE != 0) {
    return decode_failure("NBD_REPLY_TYPE_BLOCK_STATUS length", payload.size(),
                          "must be 4 + 8n with n >= 1", "S-BS-041");
  }
  BlockStatusView v(load_be32(payload.data()), payload.subspan(4), false);
  if (auto e = check_extent_lengths(v, "block status descriptor", "S-BS-042")) {
    return tl::unexpected(*e);
  }
  return v;
}

Decoded<BlockStatusView> decode_block_status_ext(Bytes payload) {
  if (payload.size() < 8 + BLOCK_STATUS_EXT_DESCRIPTOR_SIZE ||
      (payload.size() - 8) % BLOCK_STATUS_EXT_DESCRIPTOR_SIZE != 0) {
    return decode_failure("NBD_REPLY_TYPE_BLOCK_STATUS_EXT length", payload.size(),
                          "must be 8 + 16n with n >= 1", "X-S-034");
  }
  const auto count = load_be32(payload.data() + 4);
  const auto n = (payload.size() - 8) / BLOCK_STATUS_EXT_DESCRIPTOR_SIZE;
  if (count != n) {
    return decode_failure("NBD_REPLY_TYPE_BLOCK_STATUS_EXT descriptor count", count,
                          "does not match the " + std::to_string(n) + " descriptors present",
                          "X-S-035");
  }
  BlockStatusView v(load_be32(payload.data()), payload.subspan(8), true);
  if (auto e = check_extent_lengths(v, "extended block status descriptor", "X-S-036")) {
    return tl::unexpected(*e);
  }
  return v;
}

void encode_block_status(std::uint32_t context_id, std::span<const BlockDescriptor> d, Writer& w) {
  w.be32(context_id);
  for (const auto& x : d) {
    w.be32(static_cast<std::uint32_t>(x.length));
    w.be32(static_cast<std::uint32_t>(x.status));
  }
}

void encode_block_status_ext(std::uint32_t context_id, std::span<const BlockDescriptor> d,
                             Writer& w) {
  w.be32(context_id);
  w.be32(static_cast<std::uint32_t>(d.size()));
  for (const auto& x : d) {
    w.be64(x.length);
    w.be64(x.status);
  }
}

Decoded<ErrorChunk> decode_error_chunk(std::uint16_t type, Bytes payload) {
  const bool with_offset = type == NBD_REPLY_TYPE_ERROR_OFFSET;
  const bool known = type == NBD_REPLY_TYPE_ERROR || with_offset;
  const std::size_t fixed = with_offset ? ERROR_OFFSET_CHUNK_MIN_SIZE : ERROR_CHUNK_MIN_SIZE;
  const char* length_clause = with_offset ? "S-SR-031" : known ? "S-SR-027" : "C-SR-009";
  const std::string name = describe_reply_type(type);

  if (payload.size() < fixed) {
    return decode_failure(name + " length", payload.size(),
                          "must be at least " + std::to_string(fixed), length_clause);
  }
  Reader r(payload);
  ErrorChunk e;
  e.error = r.be32("error chunk error");
  const auto message_length = r.be16("error chunk message length");
  if (message_length > payload.size() - fixed) {
    return decode_failure(name + " message length", message_length,
                          "does not fit in the chunk length " + std::to_string(payload.size()),
                          length_clause);
  }
  e.message = as_string_view(r.take(message_length, "error chunk message"));
  if (with_offset) e.offset = r.be64("error chunk offset");
  if (known) {
    if (auto err = r.finish(name.c_str())) {
      err->clause = length_clause;
      return tl::unexpected(*err);
    }
  }
  if (e.error == 0) {
    return decode_failure(name + " error", 0, "must be nonzero", "S-SR-028");
  }
  if (auto err = check_string(e.message, "error chunk message", SERVER_STRING)) {
    return tl::unexpected(*err);
  }
  return e;
}

void encode_error_chunk(const ErrorChunk& e, Writer& w) {
  w.be32(e.error);
  w.be16(static_cast<std::uint16_t>(e.message.size()));
  w.string(e.message);
  if (e.offset) w.be64(*e.offset);
}

}  // namespace nbdref::wire
