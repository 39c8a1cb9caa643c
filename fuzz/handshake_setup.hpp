// The "handshake" target's four configuration bytes (their layout is in
// handshake.cpp's first comment): the client configuration they stand for,
// read here once for the target and for fuzz/tools/seed_recorder, which
// configures a client from the same bytes, runs it against a real server
// and writes the bytes and the server's stream as a seed -- so a seed
// replays exactly the conversation it was recorded from.
#pragma once

#include <cstdint>
#include <iterator>
#include <vector>

#include "engine/config.hpp"
#include "engine/option.hpp"
#include "fuzz_input.hpp"
#include "meta_context_names.hpp"
#include "wire/constants.hpp"

namespace nbdref::fuzz::handshake {

// Byte 0.
inline constexpr std::uint8_t EXTENDED_HEADERS = 0x01;
inline constexpr std::uint8_t STRUCTURED_REPLIES = 0x02;
inline constexpr std::uint8_t BLOCK_SIZE = 0x04;
inline constexpr std::uint8_t FULL_INFO = 0x08;
inline constexpr unsigned CONTEXT_COUNT_SHIFT = 4;  // two bits: how many of META_CONTEXT_NAMES
inline constexpr std::uint8_t OPT_MODE = 0x40;
inline constexpr std::uint8_t EXPORT_DISK = 0x80;
// Byte 1.
inline constexpr std::uint8_t TLS_MASK = 0x03;  // an index into TLS_MODES
inline constexpr std::uint8_t FIXED_NEWSTYLE = 0x04;
inline constexpr std::uint8_t NO_ZEROES = 0x08;
// Bytes 2-3: option nibbles, indexes into OPTION_KINDS; this one ends the list.
inline constexpr std::uint8_t END_OF_OPTIONS = 0x0f;

inline constexpr engine::OptionKind OPTION_KINDS[] = {
    engine::OptionKind::ExtendedHeaders,
    engine::OptionKind::StructuredReply,
    engine::OptionKind::SetMetaContext,
    engine::OptionKind::ListMetaContext,
    engine::OptionKind::Go,
    engine::OptionKind::Info,
    engine::OptionKind::List,
    engine::OptionKind::Abort,
    engine::OptionKind::StartTls,
};
static_assert(std::size(META_CONTEXT_NAMES) == 3,
              "two configuration bits ask for the first 0 to 3");
inline constexpr engine::TlsMode TLS_MODES[] = {engine::TlsMode::Disable, engine::TlsMode::Allow,
                                                engine::TlsMode::Require, engine::TlsMode::Disable};

struct Setup {
  engine::ConnectionConfig config;
  std::vector<engine::OptionKind> options;  // option mode: started in this order
};

inline Setup read_setup(FuzzInput& in) {
  const std::uint8_t features = in.byte();
  const std::uint8_t handshake = in.byte();
  const std::uint8_t options[] = {in.byte(), in.byte()};
  Setup s;
  auto& c = s.config;
  c.request_extended_headers = features & EXTENDED_HEADERS;
  c.request_structured_replies = features & STRUCTURED_REPLIES;
  c.request_block_size = features & BLOCK_SIZE;
  c.full_info = features & FULL_INFO;
  for (unsigned i = 0; i < ((features >> CONTEXT_COUNT_SHIFT) & 3u); ++i) {
    c.meta_contexts.emplace_back(META_CONTEXT_NAMES[i]);
  }
  c.opt_mode = features & OPT_MODE;
  c.export_name = (features & EXPORT_DISK) ? "disk" : "";
  c.tls = TLS_MODES[handshake & TLS_MASK];
  c.handshake_flags =
      ((handshake & FIXED_NEWSTYLE) ? std::uint32_t{wire::NBD_FLAG_FIXED_NEWSTYLE} : 0u) |
      ((handshake & NO_ZEROES) ? std::uint32_t{wire::NBD_FLAG_NO_ZEROES} : 0u);
  if (!c.opt_mode) return s;
  for (const unsigned pair : options) {
    for (const unsigned nibble : {pair & 0x0fu, pair >> 4}) {
      if (nibble >= std::size(OPTION_KINDS)) return s;
      s.options.push_back(OPTION_KINDS[nibble]);
    }
  }
  return s;
}

}  // namespace nbdref::fuzz::handshake
