#include "mutator/message_fields.hpp"

#include "wire/constants.hpp"
#include "wire/limits.hpp"

namespace nbdref::fuzz::mutator {
namespace {

using namespace nbdref::wire;
using R = FieldRole;

constexpr std::size_t MAX_DESCRIPTORS = 4;

// Collects fields, keeping only those wholly inside the message.
class FieldList {
 public:
  explicit FieldList(const Message& m) : size_(m.bytes.size()) {}

  bool add(FieldRole role, std::size_t offset, std::size_t width) {
    if (offset + width > size_) return false;
    fields_.push_back({role, offset, width});
    return true;
  }
  std::vector<Field> take() { return std::move(fields_); }

 private:
  std::size_t size_;
  std::vector<Field> fields_;
};

void option_payload_fields(const Message& m, FieldList& list) {
  constexpr std::size_t P = OPTION_REPLY_HEADER_SIZE;
  if (m.bytes.size() < P) return;
  switch (load_be32(m.bytes.data() + 12)) {
    case NBD_REP_SERVER:
      list.add(R::NameLength, P, 4);
      break;
    case NBD_REP_META_CONTEXT:
      list.add(R::ContextId, P, 4);
      break;
    case NBD_REP_INFO:
      if (!list.add(R::InfoType, P, 2)) break;
      switch (load_be16(m.bytes.data() + P)) {
        case NBD_INFO_EXPORT:
          list.add(R::ExportSize, P + 2, 8);
          list.add(R::TransmissionFlags, P + 10, 2);
          break;
        case NBD_INFO_BLOCK_SIZE:
          for (std::size_t i = 0; i < 3; ++i) list.add(R::BlockSize, P + 2 + 4 * i, 4);
          break;
        default:
          break;
      }
      break;
    default:
      break;
  }
}

void chunk_payload_fields(const Message& m, FieldList& list) {
  const std::size_t p = header_size(m.kind);
  if (m.bytes.size() < p) return;
  const std::uint16_t type = load_be16(m.bytes.data() + 6);
  switch (type) {
    case NBD_REPLY_TYPE_OFFSET_DATA:
      list.add(R::Offset, p, 8);
      break;
    case NBD_REPLY_TYPE_OFFSET_HOLE:
      list.add(R::Offset, p, 8);
      list.add(R::ExtentLength, p + 8, 4);
      break;
    case NBD_REPLY_TYPE_BLOCK_STATUS:
      list.add(R::ContextId, p, 4);
      for (std::size_t i = 0; i < MAX_DESCRIPTORS; ++i) {
        const std::size_t at = p + 4 + i * BLOCK_STATUS_DESCRIPTOR_SIZE;
        if (!list.add(R::ExtentLength, at, 4)) break;
        list.add(R::ExtentStatus, at + 4, 4);
      }
      break;
    case NBD_REPLY_TYPE_BLOCK_STATUS_EXT:
      list.add(R::ContextId, p, 4);
      list.add(R::DescriptorCount, p + 4, 4);
      for (std::size_t i = 0; i < MAX_DESCRIPTORS; ++i) {
        const std::size_t at = p + 8 + i * BLOCK_STATUS_EXT_DESCRIPTOR_SIZE;
        if (!list.add(R::ExtentLength, at, 8)) break;
        list.add(R::ExtentStatus, at + 8, 8);
      }
      break;
    default:
      if (!is_error_chunk(type) || !list.add(R::Error, p, 4)) break;
      if (!list.add(R::MessageLength, p + 4, 2)) break;
      if (type == NBD_REPLY_TYPE_ERROR_OFFSET) {
        list.add(R::Offset, p + ERROR_CHUNK_MIN_SIZE + load_be16(m.bytes.data() + p + 4), 8);
      }
      break;
  }
}

}  // namespace

std::vector<Field> fields_of(const Message& m) {
  FieldList list(m);
  switch (m.kind) {
    case MessageKind::NewstyleGreeting:
      list.add(R::Magic, 0, 8);
      list.add(R::Magic, 8, 8);
      list.add(R::HandshakeFlags, 16, 2);
      break;
    case MessageKind::OldstyleGreeting:
      list.add(R::Magic, 0, 8);
      list.add(R::Magic, 8, 8);
      list.add(R::ExportSize, 16, 8);
      list.add(R::TransmissionFlags, 24, 4);
      break;
    case MessageKind::OptionReply:
      list.add(R::Magic, 0, 8);
      list.add(R::Option, 8, 4);
      list.add(R::OptionReplyType, 12, 4);
      list.add(R::Length, 16, 4);
      option_payload_fields(m, list);
      break;
    case MessageKind::SimpleReply:
      list.add(R::Magic, 0, 4);
      list.add(R::Error, 4, 4);
      list.add(R::Cookie, 8, 8);
      break;
    case MessageKind::StructuredChunk:
    case MessageKind::ExtendedChunk:
      list.add(R::Magic, 0, 4);
      list.add(R::ReplyFlags, 4, 2);
      list.add(R::ChunkType, 6, 2);
      list.add(R::Cookie, 8, 8);
      if (m.kind == MessageKind::ExtendedChunk) {
        list.add(R::Offset, 16, 8);
        list.add(R::Length, 24, 8);
      } else {
        list.add(R::Length, 16, 4);
      }
      chunk_payload_fields(m, list);
      break;
    case MessageKind::Raw:
      break;
  }
  return list.take();
}

std::uint64_t read_field(const Message& m, const Field& f) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < f.width; ++i) v = (v << 8) | m.bytes[f.offset + i];
  return v;
}

void write_field(Message& m, const Field& f, std::uint64_t value) {
  for (std::size_t i = f.width; i-- > 0;) {
    m.bytes[f.offset + i] = static_cast<std::uint8_t>(value);
    value >>= 8;
  }
}

}  // namespace nbdref::fuzz::mutator
