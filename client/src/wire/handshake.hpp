// The greeting phase (proto.md "Oldstyle negotiation", "Newstyle
// negotiation"), the client flags, and the reply to NBD_OPT_EXPORT_NAME.
#pragma once

#include "wire/bytes.hpp"
#include "wire/decode_error.hpp"
#include "wire/writer.hpp"

namespace nbdref::wire {

enum class GreetingStyle { Oldstyle, Newstyle };

// The first 16 bytes a server sends: NBDMAGIC then IHAVEOPT (newstyle) or
// the cliserv magic (oldstyle). Needs exactly GREETING_PREFIX_SIZE bytes.
Decoded<GreetingStyle> decode_greeting_prefix(Bytes b);

// Oldstyle: 64-bit size, 32-bit flags (handshake flags in the upper half,
// transmission flags in the lower), 124 reserved zero bytes.
struct OldstyleGreeting {
  std::uint64_t export_size = 0;
  std::uint32_t flags = 0;

  std::uint16_t transmission_flags() const { return static_cast<std::uint16_t>(flags); }
  std::uint16_t handshake_flags() const { return static_cast<std::uint16_t>(flags >> 16); }
};
void encode_oldstyle_greeting(const OldstyleGreeting& g, Writer& w);
// The part after the 16-byte prefix (OLDSTYLE_GREETING_REST_SIZE bytes).
Decoded<OldstyleGreeting> decode_oldstyle_greeting_rest(Bytes b);
// The whole 152-byte greeting.
Decoded<OldstyleGreeting> decode_oldstyle_greeting(Bytes b);

// Newstyle: the prefix, then 16 bits of handshake flags.
struct NewstyleGreeting {
  std::uint16_t handshake_flags = 0;
};
void encode_newstyle_greeting(const NewstyleGreeting& g, Writer& w);
// The whole 18-byte greeting.
Decoded<NewstyleGreeting> decode_newstyle_greeting(Bytes b);
// Just the 2 flag bytes after the prefix.
Decoded<std::uint16_t> decode_handshake_flags(Bytes b);

// The client's 32-bit answer to the handshake flags.
void encode_client_flags(std::uint32_t flags, Writer& w);
Decoded<std::uint32_t> decode_client_flags(Bytes b);

// The server's answer to NBD_OPT_EXPORT_NAME: size, transmission flags and,
// unless NBD_FLAG_C_NO_ZEROES was agreed, 124 zero bytes.
struct ExportNameReply {
  std::uint64_t export_size = 0;
  std::uint16_t transmission_flags = 0;
};
void encode_export_name_reply(const ExportNameReply& r, bool zero_padding, Writer& w);
// Accepts EXPORT_NAME_REPLY_SIZE bytes, or that plus the 124-byte padding.
Decoded<ExportNameReply> decode_export_name_reply(Bytes b);

}  // namespace nbdref::wire
