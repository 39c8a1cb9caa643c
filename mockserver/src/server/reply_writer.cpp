#include "server/reply_writer.hpp"

#include <algorithm>

#include "wire/constants.hpp"
#include "wire/limits.hpp"
#include "wire/reply.hpp"

namespace nbdref::mock {

using namespace wire;
using script::ServeFault;

void ReplyWriter::chunk_header(const RequestHeader& req, bool last, std::uint16_t type,
                               std::uint64_t length) {
  // S-SR-014: DONE on the final chunk only; S-TX-002: the cookie echoed as is.
  // X-S-006: the extended header repeats the request's offset.
  const std::uint64_t offset = fault_ == ServeFault::ExtendedReplyOffsetZero ? 0 : req.offset;
  ChunkHeader h{static_cast<std::uint16_t>(last ? NBD_REPLY_FLAG_DONE : 0), type, req.cookie,
                offset, length};
  Writer w(out_);
  if (extended() && fault_ != ServeFault::ExtendedHeadersCompactReplies) {
    encode_extended_reply_header(h, w);
  } else {
    encode_structured_reply_header(h, w);
  }
}

void ReplyWriter::success(const RequestHeader& req) {
  if (extended()) {
    done(req);
    return;
  }
  Writer w(out_);
  encode_simple_reply({0, req.cookie}, w);
}

void ReplyWriter::done(const RequestHeader& req) {
  chunk_header(req, true, NBD_REPLY_TYPE_NONE, 0);
}

void ReplyWriter::error(const RequestHeader& req, std::uint32_t error, std::string_view message) {
  Writer w(out_);
  // S-SR-005 broken by errors-as-simple-replies, where simple replies are
  // allowed: not for reads (S-SR-004) nor with extended headers (X-S-004).
  const bool simple_allowed = !extended() && req.type != NBD_CMD_READ;
  if (!chunks() || (simple_allowed && fault_ == ServeFault::ErrorsAsSimpleReplies)) {
    encode_simple_reply({error, req.cookie}, w);
    // S-TX-034 broken by failed-read-sends-data: zeroes where no data may follow.
    if (req.type == NBD_CMD_READ && !chunks() && fault_ == ServeFault::FailedReadSendsData) {
      out_.resize(out_.size() + std::min<std::uint64_t>(req.length, DEFAULT_MAX_PAYLOAD));
    }
    return;
  }
  // S-SR-030: the message is a string, at most 4096 bytes.
  message = message.substr(0, MAX_STRING_LENGTH);
  chunk_header(req, true, NBD_REPLY_TYPE_ERROR, ERROR_CHUNK_MIN_SIZE + message.size());
  encode_error_chunk({error, message, std::nullopt}, w);
}

std::span<std::uint8_t> ReplyWriter::simple_read(const RequestHeader& req, std::size_t length) {
  Writer w(out_);
  encode_simple_reply({0, req.cookie}, w);
  const std::size_t start = out_.size();
  out_.resize(start + length);
  return {out_.data() + start, length};
}

std::span<std::uint8_t> ReplyWriter::offset_data(const RequestHeader& req, std::uint64_t offset,
                                                 std::size_t length, bool last) {
  chunk_header(req, last, NBD_REPLY_TYPE_OFFSET_DATA, OFFSET_DATA_PREFIX_SIZE + length);
  Writer w(out_);
  w.be64(offset);
  const std::size_t start = out_.size();
  out_.resize(start + length);
  return {out_.data() + start, length};
}

void ReplyWriter::offset_hole(const RequestHeader& req, std::uint64_t offset, std::uint32_t length,
                              bool last) {
  chunk_header(req, last, NBD_REPLY_TYPE_OFFSET_HOLE, OFFSET_HOLE_SIZE);
  Writer w(out_);
  encode_offset_hole({offset, length}, w);
}

void ReplyWriter::block_status(const RequestHeader& req, std::uint32_t context_id,
                               std::span<const BlockDescriptor> descriptors, bool last) {
  Writer w(out_);
  if (extended()) {
    chunk_header(req, last, NBD_REPLY_TYPE_BLOCK_STATUS_EXT,
                 8 + BLOCK_STATUS_EXT_DESCRIPTOR_SIZE * descriptors.size());
    encode_block_status_ext(context_id, descriptors, w);
  } else {
    chunk_header(req, last, NBD_REPLY_TYPE_BLOCK_STATUS,
                 4 + BLOCK_STATUS_DESCRIPTOR_SIZE * descriptors.size());
    encode_block_status(context_id, descriptors, w);
  }
}

}  // namespace nbdref::mock
