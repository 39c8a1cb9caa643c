// Option replies of fixed newstyle haggling (proto.md "Fixed newstyle
// negotiation", "Option reply types"): the 20-byte header and the payload of
// every reply type, including each NBD_INFO_* item. Decoders return views
// into the input span.
#pragma once

#include <string_view>
#include <variant>

#include "wire/bytes.hpp"
#include "wire/decode_error.hpp"
#include "wire/writer.hpp"

namespace nbdref::wire {

struct OptionReplyHeader {
  std::uint32_t option = 0;      // the option being answered
  std::uint32_t reply_type = 0;  // NBD_REP_*
  std::uint32_t length = 0;      // payload bytes that follow
};
void encode_option_reply_header(const OptionReplyHeader& h, Writer& w);
// Header with length = payload size, then the payload.
void encode_option_reply(std::uint32_t option, std::uint32_t reply_type, Bytes payload, Writer& w);
// The 20-byte header; checks the reply magic (S-OPT-020).
Decoded<OptionReplyHeader> decode_option_reply_header(Bytes b);

// NBD_REP_SERVER: one export of an NBD_OPT_LIST answer.
struct ServerReply {
  std::string_view name;
  std::string_view description;  // whatever follows the name; may be empty
};
void encode_server_reply(const ServerReply& s, Writer& w);
Decoded<ServerReply> decode_server_reply(Bytes payload);

// NBD_REP_INFO payloads, one type per NBD_INFO_* item.
struct InfoExport {
  std::uint64_t export_size = 0;
  std::uint16_t transmission_flags = 0;
};
struct InfoName {
  std::string_view name;
};
struct InfoDescription {
  std::string_view description;
};
struct InfoBlockSize {
  std::uint32_t minimum = 0;
  std::uint32_t preferred = 0;
  std::uint32_t maximum = 0;
};
// An information type this codec does not know; clients ignore it (C-OPT-013).
struct InfoUnknown {
  std::uint16_t type = 0;
  Bytes data;
};
using InfoReply = std::variant<InfoExport, InfoName, InfoDescription, InfoBlockSize, InfoUnknown>;
void encode_info_reply(const InfoReply& info, Writer& w);
Decoded<InfoReply> decode_info_reply(Bytes payload);

// NBD_REP_META_CONTEXT: a context id and its name.
struct MetaContextReply {
  std::uint32_t context_id = 0;
  std::string_view name;
};
void encode_meta_context_reply(const MetaContextReply& m, Writer& w);
Decoded<MetaContextReply> decode_meta_context_reply(Bytes payload);

// Error replies (bit 31 set) may carry a message for a human (S-OPT-027).
Decoded<std::string_view> decode_error_reply_message(Bytes payload);

}  // namespace nbdref::wire
