// Payloads of structured and extended reply chunks (proto.md "Structured
// reply types"). Decoders check the layout rules of each type and return
// views into the input span.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "wire/bytes.hpp"
#include "wire/decode_error.hpp"
#include "wire/writer.hpp"

namespace nbdref::wire {

// NBD_REPLY_TYPE_NONE: the payload must be empty (S-SR-018).
std::optional<DecodeError> check_none_chunk(std::uint64_t length);

// NBD_REPLY_TYPE_OFFSET_DATA: 64-bit offset, then at least one data byte.
struct OffsetData {
  std::uint64_t offset = 0;
  Bytes data;
};
void encode_offset_data(const OffsetData& d, Writer& w);
Decoded<OffsetData> decode_offset_data(Bytes payload);
// The chunk's total length must leave room for the offset and one byte
// (S-SR-020); lets a reader check the header before buffering the payload.
std::optional<DecodeError> check_offset_data_length(std::uint64_t length);

// NBD_REPLY_TYPE_OFFSET_HOLE: 64-bit offset and a nonzero 32-bit size.
struct OffsetHole {
  std::uint64_t offset = 0;
  std::uint32_t length = 0;
};
void encode_offset_hole(const OffsetHole& h, Writer& w);
Decoded<OffsetHole> decode_offset_hole(Bytes payload);

// One block status descriptor, widened to 64 bits whatever its wire form.
struct BlockDescriptor {
  std::uint64_t length = 0;
  std::uint64_t status = 0;
};

// NBD_REPLY_TYPE_BLOCK_STATUS (32-bit descriptors) and
// NBD_REPLY_TYPE_BLOCK_STATUS_EXT (64-bit descriptors), viewed in place.
class BlockStatusView {
 public:
  BlockStatusView() = default;
  BlockStatusView(std::uint32_t context_id, Bytes descriptors, bool wide)
      : context_id_(context_id), descriptors_(descriptors), wide_(wide) {}

  std::uint32_t context_id() const { return context_id_; }
  bool wide() const { return wide_; }
  std::size_t size() const { return descriptors_.size() / descriptor_size(); }
  BlockDescriptor operator[](std::size_t i) const;

 private:
  std::size_t descriptor_size() const { return wide_ ? 16 : 8; }

  std::uint32_t context_id_ = 0;
  Bytes descriptors_;
  bool wide_ = false;
};
// Length 4 + 8n with n >= 1 (S-BS-041), every extent nonzero (S-BS-042).
Decoded<BlockStatusView> decode_block_status(Bytes payload);
// Length 8 + 16n, count == n >= 1 (X-S-034, X-S-035), extents nonzero (X-S-036).
Decoded<BlockStatusView> decode_block_status_ext(Bytes payload);
// Descriptors are truncated to 32 bits in the compact form.
void encode_block_status(std::uint32_t context_id, std::span<const BlockDescriptor> d, Writer& w);
void encode_block_status_ext(std::uint32_t context_id, std::span<const BlockDescriptor> d,
                             Writer& w);

// NBD_REPLY_TYPE_ERROR, NBD_REPLY_TYPE_ERROR_OFFSET, and error types this
// codec does not know (bit 15 set): error value, message, and the offset for
// ERROR_OFFSET.
struct ErrorChunk {
  std::uint32_t error = 0;
  std::string_view message;
  std::optional<std::uint64_t> offset;
};
// ERROR and ERROR_OFFSET must have exactly their documented layout
// (S-SR-027, S-SR-031) and a nonzero error (S-SR-028); unknown error types
// need only the error and a message that fits (C-SR-009).
Decoded<ErrorChunk> decode_error_chunk(std::uint16_t type, Bytes payload);
// Writes error, message length, message and (when present) the offset.
void encode_error_chunk(const ErrorChunk& e, Writer& w);

}  // namespace nbdref::wire
