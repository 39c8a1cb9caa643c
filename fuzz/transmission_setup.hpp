// What the "transmission" target's four configuration bytes stand for
// (their layout is in transmission_input.hpp, their meaning in
// transmission.cpp's first comment): the client configuration and the
// honest handshake, read here once for the target and for
// fuzz/tools/seed_recorder, which negotiates the same terms with a real
// server and records its replies as operations -- so a seed replays
// exactly the conversation it was recorded from.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <vector>

#include "engine/command.hpp"
#include "engine/config.hpp"
#include "fuzz_input.hpp"
#include "meta_context_names.hpp"
#include "transmission_input.hpp"
#include "wire/constants.hpp"
#include "wire/handshake.hpp"
#include "wire/option_reply.hpp"
#include "wire/writer.hpp"

namespace nbdref::fuzz::transmission {

inline constexpr std::uint16_t TYPES[] = {
    wire::NBD_CMD_READ,  wire::NBD_CMD_WRITE,        wire::NBD_CMD_FLUSH,       wire::NBD_CMD_TRIM,
    wire::NBD_CMD_CACHE, wire::NBD_CMD_WRITE_ZEROES, wire::NBD_CMD_BLOCK_STATUS};
inline constexpr std::uint64_t SIZES[] = {1 << 20, 0, std::uint64_t{1} << 40,
                                          (std::uint64_t{1} << 63) - 512};
// The id this handshake gives each of META_CONTEXT_NAMES.
inline constexpr std::uint32_t CONTEXT_IDS[] = {1, 2, 3};
static_assert(std::size(CONTEXT_IDS) == std::size(META_CONTEXT_NAMES));
static_assert(std::size(META_CONTEXT_NAMES) == 3,
              "two configuration bits ask for the first 0 to 3");
inline constexpr wire::InfoBlockSize BLOCK_SIZES{512, 4096, 64 * 1024};
// Enough commands to fill the engine's tables, few enough to stay fast.
inline constexpr std::size_t MAX_COMMANDS = 16;

struct Setup {
  bool structured = false;
  bool extended = false;
  unsigned contexts = 0;
  bool strict = false;
  bool pread_initialize = false;
  bool block_sizes = false;
  bool fail_callbacks = false;
  std::uint16_t flags = 0;
  std::uint64_t size = 0;

  bool payloads() const { return structured || extended; }

  engine::ConnectionConfig config() const {
    engine::ConnectionConfig c;
    c.request_extended_headers = extended;
    c.request_structured_replies = structured;
    for (unsigned i = 0; i < contexts; ++i) c.meta_contexts.emplace_back(META_CONTEXT_NAMES[i]);
    c.strict = strict ? std::uint32_t{engine::STRICT_ALL} : 0u;
    c.pread_initialize = pread_initialize;
    return c;
  }

  // The command a submit operation asks for.
  engine::CommandRequest request(const SubmitFields& fields, bool from_end) const {
    engine::CommandRequest r;
    r.type = TYPES[fields.type_index % std::size(TYPES)];
    r.flags = fields.flags;
    r.offset = from_end ? size - fields.offset : fields.offset;
    r.length = fields.length;
    return r;
  }

  // An honest server's side of the handshake: every option the client
  // sends is granted.
  std::vector<std::uint8_t> server_handshake() const {
    using namespace wire;
    std::vector<std::uint8_t> out;
    Writer w(out);
    encode_newstyle_greeting({NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES}, w);
    if (extended) {
      encode_option_reply(NBD_OPT_EXTENDED_HEADERS, NBD_REP_ACK, {}, w);
    } else if (structured) {
      encode_option_reply(NBD_OPT_STRUCTURED_REPLY, NBD_REP_ACK, {}, w);
    }
    if (contexts > 0 && payloads()) {
      for (unsigned i = 0; i < contexts; ++i) {
        std::vector<std::uint8_t> payload;
        Writer p(payload);
        encode_meta_context_reply({CONTEXT_IDS[i], META_CONTEXT_NAMES[i]}, p);
        encode_option_reply(NBD_OPT_SET_META_CONTEXT, NBD_REP_META_CONTEXT, payload, w);
      }
      encode_option_reply(NBD_OPT_SET_META_CONTEXT, NBD_REP_ACK, {}, w);
    }
    const auto info = [&](const InfoReply& reply) {
      std::vector<std::uint8_t> payload;
      Writer p(payload);
      encode_info_reply(reply, p);
      encode_option_reply(NBD_OPT_GO, NBD_REP_INFO, payload, w);
    };
    info(InfoExport{size, flags});
    if (block_sizes) info(BLOCK_SIZES);
    encode_option_reply(NBD_OPT_GO, NBD_REP_ACK, {}, w);
    return out;
  }
};

inline Setup read_setup(FuzzInput& in) {
  using namespace wire;
  const std::uint8_t features = in.byte();
  Setup s;
  s.structured = features & STRUCTURED_REPLIES;
  s.extended = features & EXTENDED_HEADERS;
  s.contexts = context_count(features);
  s.strict = features & STRICT;
  s.pread_initialize = features & PREAD_INITIALIZE;
  s.block_sizes = features & BLOCK_SIZES_ADVERTISED;
  s.fail_callbacks = features & FAIL_CALLBACKS;
  std::uint16_t f = in.be16() | NBD_FLAG_HAS_FLAGS;
  if (!s.payloads()) f &= static_cast<std::uint16_t>(~NBD_FLAG_SEND_DF);
  if (!(f & NBD_FLAG_SEND_WRITE_ZEROES)) f &= static_cast<std::uint16_t>(~NBD_FLAG_SEND_FAST_ZERO);
  if (!s.extended) f &= static_cast<std::uint16_t>(~NBD_FLAG_BLOCK_STATUS_PAYLOAD);
  s.flags = f;
  s.size = SIZES[in.byte() % std::size(SIZES)];
  return s;
}

}  // namespace nbdref::fuzz::transmission
