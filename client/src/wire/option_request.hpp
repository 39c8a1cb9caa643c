// Option requests of the haggling phase (proto.md "Newstyle negotiation",
// "Option types"): the common header and the typed data of each option.
// Decoders return views into the input span.
#pragma once

#include <string_view>
#include <vector>

#include "wire/bytes.hpp"
#include "wire/decode_error.hpp"
#include "wire/writer.hpp"

namespace nbdref::wire {

struct OptionRequestHeader {
  std::uint32_t option = 0;
  std::uint32_t length = 0;  // bytes of option data that follow
};
// IHAVEOPT, option, length, then `data`.
void encode_option_request(std::uint32_t option, Bytes data, Writer& w);
// The 16-byte header; checks the IHAVEOPT magic.
Decoded<OptionRequestHeader> decode_option_request_header(Bytes b);

// Data of NBD_OPT_INFO and NBD_OPT_GO: export name and NBD_INFO_* requests.
struct InfoRequest {
  std::string_view export_name;
  std::vector<std::uint16_t> info_types;
};
void encode_info_request(const InfoRequest& req, Writer& w);
Decoded<InfoRequest> decode_info_request(Bytes data);

// Data of NBD_OPT_LIST_META_CONTEXT and NBD_OPT_SET_META_CONTEXT.
struct MetaContextRequest {
  std::string_view export_name;
  std::vector<std::string_view> queries;
};
void encode_meta_context_request(const MetaContextRequest& req, Writer& w);
Decoded<MetaContextRequest> decode_meta_context_request(Bytes data);

}  // namespace nbdref::wire
