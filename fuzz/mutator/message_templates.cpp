#include "mutator/message_templates.hpp"

#include <algorithm>
#include <array>
#include <iterator>
#include <string_view>
#include <vector>

#include "meta_context_names.hpp"
#include "wire/chunk.hpp"
#include "wire/constants.hpp"
#include "wire/handshake.hpp"
#include "wire/option_reply.hpp"
#include "wire/reply.hpp"

namespace nbdref::fuzz::mutator {
namespace {

using namespace nbdref::wire;
using Buffer = std::vector<std::uint8_t>;

#define NBDREF_VALUE(name, value) value,
constexpr std::uint32_t OPTIONS[] = {NBDREF_OPTIONS(NBDREF_VALUE)};
constexpr std::uint32_t OPTION_REPLIES[] = {NBDREF_OPTION_REPLIES(NBDREF_VALUE)};
constexpr std::uint32_t ERRORS[] = {NBDREF_ERRORS(NBDREF_VALUE)};
#undef NBDREF_VALUE
constexpr std::string_view NAMES[] = {"", "disk", "other", "a disk"};
// The targets' context names, and an empty one.
constexpr auto CONTEXTS = [] {
  std::array<std::string_view, std::size(META_CONTEXT_NAMES) + 1> names;
  std::copy(std::begin(META_CONTEXT_NAMES), std::end(META_CONTEXT_NAMES), names.begin());
  names.back() = "";
  return names;
}();
constexpr std::string_view TEXTS[] = {"", "refused", "no such export"};
constexpr std::uint64_t SIZES[] = {
    0, 512, 4096, 1u << 20, std::uint64_t{1} << 40, (std::uint64_t{1} << 63) - 512};
constexpr InfoBlockSize BLOCK_SIZES[] = {
    {1, 4096, 1u << 25}, {512, 4096, 65536}, {4096, 4096, 4096}, {0, 0, 0}, {3, 1000, 7}};

std::uint32_t error_reply_of(Random& random) {
  std::vector<std::uint32_t> errors;
  for (const std::uint32_t type : OPTION_REPLIES) {
    if (is_error_reply(type)) errors.push_back(type);
  }
  return random.pick(errors);
}
std::uint32_t option_of(Random& random, const StreamFacts& facts) {
  if (facts.options.empty() || random.one_in(4)) return random.pick(OPTIONS);
  return random.pick(facts.options);
}
std::uint64_t cookie_of(Random& random, const StreamFacts& facts) {
  if (facts.cookies.empty() || random.one_in(8)) return random.between(0, 4);
  return random.pick(facts.cookies);
}
std::uint32_t context_id_of(Random& random, const StreamFacts& facts) {
  if (facts.context_ids.empty() || random.one_in(8)) {
    return static_cast<std::uint32_t>(random.between(0, 3));
  }
  return random.pick(facts.context_ids);
}
std::uint16_t transmission_flags(Random& random) {
  return static_cast<std::uint16_t>(NBD_FLAG_HAS_FLAGS | (random.next() & 0x1ffe));
}
// Mostly sector-aligned offsets within the first MiB, sometimes anywhere.
std::uint64_t offset_of(Random& random) {
  if (random.one_in(4)) return random.pick(SIZES) + random.between(0, 1) * 511;
  return random.below(2048) * 512;
}

InfoReply info_reply(Random& random) {
  switch (random.below(5)) {
    case 0:
      return InfoExport{random.pick(SIZES), transmission_flags(random)};
    case 1:
      return InfoName{random.pick(NAMES)};
    case 2:
      return InfoDescription{random.pick(TEXTS)};
    case 3:
      return random.pick(BLOCK_SIZES);
    default:
      return InfoUnknown{static_cast<std::uint16_t>(random.between(4, 7)), {}};
  }
}

Message option_reply(Random& random, const StreamFacts& facts) {
  Buffer payload;
  Writer p(payload);
  std::uint32_t type = NBD_REP_ACK;
  switch (random.below(5)) {
    case 0:
      break;
    case 1:
      type = NBD_REP_SERVER;
      encode_server_reply({random.pick(NAMES), random.pick(TEXTS)}, p);
      break;
    case 2:
      type = NBD_REP_INFO;
      encode_info_reply(info_reply(random), p);
      break;
    case 3:
      type = NBD_REP_META_CONTEXT;
      encode_meta_context_reply({context_id_of(random, facts), random.pick(CONTEXTS)}, p);
      break;
    default:
      type = error_reply_of(random);
      p.string(random.pick(TEXTS));
      break;
  }
  Message m{MessageKind::OptionReply, {}};
  Writer w(m.bytes);
  encode_option_reply(option_of(random, facts), type, payload, w);
  return m;
}

// A chunk's type, flags and payload; the header is added by the form.
struct ChunkBody {
  std::uint16_t type = NBD_REPLY_TYPE_NONE;
  std::uint16_t flags = 0;
  Buffer payload;
};

std::vector<BlockDescriptor> extents(Random& random) {
  std::vector<BlockDescriptor> d(random.between(1, 4));
  for (auto& e : d) e = {random.between(1, 16) * 512, random.below(4)};
  return d;
}

ChunkBody chunk_body(Random& random, const StreamFacts& facts, bool extended) {
  ChunkBody c;
  Writer p(c.payload);
  if (random.one_in(2)) c.flags = NBD_REPLY_FLAG_DONE;
  switch (random.below(8)) {
    case 0:
      c.flags = NBD_REPLY_FLAG_DONE;
      break;
    case 1: {
      c.type = NBD_REPLY_TYPE_OFFSET_DATA;
      const Buffer data(random.one_in(2) ? 512 : random.between(1, 64), random.byte());
      encode_offset_data({offset_of(random), data}, p);
      break;
    }
    case 2:
      c.type = NBD_REPLY_TYPE_OFFSET_HOLE;
      encode_offset_hole(
          {offset_of(random), static_cast<std::uint32_t>(random.between(1, 8) * 512)}, p);
      break;
    case 3:
      c.type = extended ? NBD_REPLY_TYPE_BLOCK_STATUS_EXT : NBD_REPLY_TYPE_BLOCK_STATUS;
      if (extended) {
        encode_block_status_ext(context_id_of(random, facts), extents(random), p);
      } else {
        encode_block_status(context_id_of(random, facts), extents(random), p);
      }
      break;
    case 4:
      c.type = NBD_REPLY_TYPE_ERROR;
      encode_error_chunk({random.pick(ERRORS), random.pick(TEXTS), std::nullopt}, p);
      break;
    case 5:
      c.type = NBD_REPLY_TYPE_ERROR_OFFSET;
      encode_error_chunk({random.pick(ERRORS), random.pick(TEXTS), offset_of(random)}, p);
      break;
    case 6:
      // The other form's block status: wrong for the negotiated headers.
      c.type = extended ? NBD_REPLY_TYPE_BLOCK_STATUS : NBD_REPLY_TYPE_BLOCK_STATUS_EXT;
      if (extended) {
        encode_block_status(context_id_of(random, facts), extents(random), p);
      } else {
        encode_block_status_ext(context_id_of(random, facts), extents(random), p);
      }
      break;
    default:
      // A type the spec does not define, plain or error.
      c.type = random.one_in(2) ? 3 : NBD_REPLY_TYPE_FLAG_ERROR + 3;
      p.be32(random.pick(ERRORS));
      p.be16(0);
      break;
  }
  return c;
}

Message chunk(MessageKind kind, Random& random, const StreamFacts& facts) {
  const bool extended = kind == MessageKind::ExtendedChunk;
  ChunkBody body = chunk_body(random, facts, extended);
  const ChunkHeader header{body.flags, body.type, cookie_of(random, facts),
                           extended ? offset_of(random) : 0, body.payload.size()};
  Message m{kind, {}};
  Writer w(m.bytes);
  if (extended) {
    encode_extended_reply_header(header, w);
  } else {
    encode_structured_reply_header(header, w);
  }
  w.bytes(body.payload);
  return m;
}

}  // namespace

Message synthesize_message(MessageKind kind, Random& random, const StreamFacts& facts) {
  Message m{kind, {}};
  Writer w(m.bytes);
  switch (kind) {
    case MessageKind::NewstyleGreeting:
      encode_newstyle_greeting({static_cast<std::uint16_t>(random.below(4))}, w);
      return m;
    case MessageKind::OldstyleGreeting:
      encode_oldstyle_greeting({random.pick(SIZES), transmission_flags(random)}, w);
      return m;
    case MessageKind::OptionReply:
      return option_reply(random, facts);
    case MessageKind::SimpleReply: {
      const std::uint32_t error = random.one_in(2) ? 0 : random.pick(ERRORS);
      encode_simple_reply({error, cookie_of(random, facts)}, w);
      return m;
    }
    case MessageKind::StructuredChunk:
    case MessageKind::ExtendedChunk:
      return chunk(kind, random, facts);
    case MessageKind::Raw:
      encode_export_name_reply({random.pick(SIZES), transmission_flags(random)}, random.one_in(2),
                               w);
      return m;
  }
  return m;
}

}  // namespace nbdref::fuzz::mutator
