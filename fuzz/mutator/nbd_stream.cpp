#include "mutator/nbd_stream.hpp"

#include "wire/constants.hpp"
#include "wire/limits.hpp"

namespace nbdref::fuzz::mutator {
namespace {

using namespace nbdref::wire;

struct LengthField {
  std::size_t offset;
  std::size_t width;
};

// Where the header of a kind with a payload declares its length.
std::optional<LengthField> length_field(MessageKind kind) {
  switch (kind) {
    case MessageKind::OptionReply:
      return LengthField{16, 4};
    case MessageKind::StructuredChunk:
      return LengthField{16, 4};
    case MessageKind::ExtendedChunk:
      return LengthField{24, 8};
    default:
      return std::nullopt;
  }
}

std::uint64_t load(const std::uint8_t* p, std::size_t width) {
  return width == 8 ? load_be64(p) : load_be32(p);
}

// The header of `kind` at the front of `rest`, with its payload if all there.
std::optional<Found> with_payload(MessageKind kind, Bytes rest) {
  const std::size_t header = header_size(kind);
  if (rest.size() < header) return std::nullopt;
  const auto field = length_field(kind);
  const std::uint64_t declared = load(rest.data() + field->offset, field->width);
  if (declared <= rest.size() - header) {
    return Found{kind, header + static_cast<std::size_t>(declared)};
  }
  return Found{kind, header};
}

// Whether a message header may start at the front of `rest`: its first four
// bytes begin one of the magics message_at() looks for. Scanning a raw run
// passes every other position without looking further.
bool may_start_message(Bytes rest) {
  if (rest.size() < REPLY_MAGIC_SIZE) return false;
  switch (load_be32(rest.data())) {
    case NBDMAGIC >> 32:
    case OPTION_REPLY_MAGIC >> 32:
    case NBD_SIMPLE_REPLY_MAGIC:
    case NBD_STRUCTURED_REPLY_MAGIC:
    case NBD_EXTENDED_REPLY_MAGIC:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::size_t header_size(MessageKind kind) {
  switch (kind) {
    case MessageKind::NewstyleGreeting:
      return NEWSTYLE_GREETING_SIZE;
    case MessageKind::OldstyleGreeting:
      return OLDSTYLE_GREETING_SIZE;
    case MessageKind::OptionReply:
      return OPTION_REPLY_HEADER_SIZE;
    case MessageKind::SimpleReply:
      return SIMPLE_REPLY_SIZE;
    case MessageKind::StructuredChunk:
      return STRUCTURED_REPLY_HEADER_SIZE;
    case MessageKind::ExtendedChunk:
      return EXTENDED_REPLY_HEADER_SIZE;
    case MessageKind::Raw:
      return 0;
  }
  return 0;
}

bool has_payload(MessageKind kind) {
  return length_field(kind).has_value();
}

std::size_t payload_size(const Message& m) {
  const std::size_t header = header_size(m.kind);
  return m.bytes.size() > header ? m.bytes.size() - header : 0;
}

std::optional<std::uint64_t> declared_length(const Message& m) {
  const auto field = length_field(m.kind);
  if (!field || m.bytes.size() < header_size(m.kind)) return std::nullopt;
  return load(m.bytes.data() + field->offset, field->width);
}

bool length_consistent(const Message& m) {
  if (!has_payload(m.kind)) return true;
  const auto declared = declared_length(m);
  return declared && *declared == payload_size(m);
}

void fix_length(Message& m) {
  const auto field = length_field(m.kind);
  if (!field || m.bytes.size() < header_size(m.kind)) return;
  std::uint8_t* p = m.bytes.data() + field->offset;
  if (field->width == 8) {
    store_be64(p, payload_size(m));
  } else {
    store_be32(p, static_cast<std::uint32_t>(payload_size(m)));
  }
}

std::optional<Found> message_at(Bytes stream, std::size_t at) {
  const Bytes rest = stream.subspan(at);
  if (rest.size() >= GREETING_PREFIX_SIZE && load_be64(rest.data()) == NBDMAGIC) {
    const std::uint64_t second = load_be64(rest.data() + 8);
    if (second == IHAVEOPT && rest.size() >= NEWSTYLE_GREETING_SIZE) {
      return Found{MessageKind::NewstyleGreeting, NEWSTYLE_GREETING_SIZE};
    }
    if (second == OLDSTYLE_MAGIC && rest.size() >= OLDSTYLE_GREETING_SIZE) {
      return Found{MessageKind::OldstyleGreeting, OLDSTYLE_GREETING_SIZE};
    }
    return std::nullopt;
  }
  if (rest.size() >= 8 && load_be64(rest.data()) == OPTION_REPLY_MAGIC) {
    return with_payload(MessageKind::OptionReply, rest);
  }
  if (rest.size() < REPLY_MAGIC_SIZE) return std::nullopt;
  switch (load_be32(rest.data())) {
    case NBD_SIMPLE_REPLY_MAGIC:
      if (rest.size() < SIMPLE_REPLY_SIZE) return std::nullopt;
      return Found{MessageKind::SimpleReply, SIMPLE_REPLY_SIZE};
    case NBD_STRUCTURED_REPLY_MAGIC:
      return with_payload(MessageKind::StructuredChunk, rest);
    case NBD_EXTENDED_REPLY_MAGIC:
      return with_payload(MessageKind::ExtendedChunk, rest);
    default:
      return std::nullopt;
  }
}

Stream split_stream(Bytes stream) {
  Stream out;
  std::size_t at = 0;
  while (at < stream.size()) {
    if (const auto found = message_at(stream, at)) {
      const auto bytes = stream.subspan(at, found->size);
      out.push_back({found->kind, {bytes.begin(), bytes.end()}});
      at += found->size;
      continue;
    }
    // The bytes up to the next header make one raw run (joining the raw run
    // before it, if any).
    std::size_t end = at + 1;
    while (end < stream.size() &&
           !(may_start_message(stream.subspan(end)) && message_at(stream, end))) {
      ++end;
    }
    if (out.empty() || out.back().kind != MessageKind::Raw) out.push_back({MessageKind::Raw, {}});
    out.back().bytes.insert(out.back().bytes.end(), stream.begin() + at, stream.begin() + end);
    at = end;
  }
  return out;
}

std::vector<std::uint8_t> join_stream(const Stream& stream) {
  std::vector<std::uint8_t> out;
  for (const Message& m : stream) out.insert(out.end(), m.bytes.begin(), m.bytes.end());
  return out;
}

}  // namespace nbdref::fuzz::mutator
