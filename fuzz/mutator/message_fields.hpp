// The numeric fields of a message -- header fields, and the fields of the
// payloads this mutator knows (NBD_REP_INFO, NBD_REP_SERVER,
// NBD_REP_META_CONTEXT, each chunk type) -- each with its role, so a
// mutation can pick a value that means something for it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "mutator/nbd_stream.hpp"

namespace nbdref::fuzz::mutator {

enum class FieldRole : std::uint8_t {
  Magic,
  HandshakeFlags,
  TransmissionFlags,  // 16 bits; the oldstyle greeting's 32 bits hold handshake flags too
  ExportSize,
  Option,
  OptionReplyType,
  Length,  // a header's payload length
  InfoType,
  BlockSize,
  NameLength,
  ContextId,
  ReplyFlags,
  ChunkType,
  Cookie,
  Offset,
  ExtentLength,
  ExtentStatus,
  DescriptorCount,
  Error,
  MessageLength,
};

// A big-endian unsigned field of `width` bytes at `offset` in the message.
struct Field {
  FieldRole role;
  std::size_t offset;
  std::size_t width;

  bool operator==(const Field&) const = default;
};

// The fields present in the message's bytes, header first; block status
// descriptors up to the fourth.
std::vector<Field> fields_of(const Message& m);

std::uint64_t read_field(const Message& m, const Field& f);
// Stores the low `width` bytes of `value`.
void write_field(Message& m, const Field& f, std::uint64_t value);

}  // namespace nbdref::fuzz::mutator
