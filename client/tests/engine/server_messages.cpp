#include "server_messages.hpp"

namespace nbdref::test {

using namespace wire;

ByteVector operator+(ByteVector a, const ByteVector& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

ByteVector newstyle_greeting(std::uint16_t flags) {
  ByteVector out;
  Writer w(out);
  encode_newstyle_greeting({flags}, w);
  return out;
}

ByteVector oldstyle_greeting(std::uint64_t size, std::uint32_t flags) {
  ByteVector out;
  Writer w(out);
  encode_oldstyle_greeting({size, flags}, w);
  return out;
}

ByteVector option_reply(std::uint32_t option, std::uint32_t type, Bytes payload) {
  ByteVector out;
  Writer w(out);
  encode_option_reply(option, type, payload, w);
  return out;
}

ByteVector ack(std::uint32_t option) {
  return option_reply(option, NBD_REP_ACK);
}

ByteVector info_reply(std::uint32_t option, const InfoReply& info) {
  ByteVector payload;
  Writer w(payload);
  encode_info_reply(info, w);
  return option_reply(option, NBD_REP_INFO, payload);
}

ByteVector info_export(std::uint32_t option, std::uint64_t size, std::uint16_t flags) {
  return info_reply(option, InfoExport{size, flags});
}

ByteVector meta_context(std::uint32_t option, std::uint32_t id, std::string_view name) {
  ByteVector payload;
  Writer w(payload);
  encode_meta_context_reply({id, name}, w);
  return option_reply(option, NBD_REP_META_CONTEXT, payload);
}

ByteVector server_entry(std::string_view name, std::string_view description) {
  ByteVector payload;
  Writer w(payload);
  encode_server_reply({name, description}, w);
  return option_reply(NBD_OPT_LIST, NBD_REP_SERVER, payload);
}

ByteVector export_name_reply(std::uint64_t size, std::uint16_t flags, bool padding) {
  ByteVector out;
  Writer w(out);
  encode_export_name_reply({size, flags}, padding, w);
  return out;
}

ByteVector simple_reply(std::uint64_t cookie, std::uint32_t error, Bytes data) {
  ByteVector out;
  Writer w(out);
  encode_simple_reply({error, cookie}, w);
  w.bytes(data);
  return out;
}

ByteVector chunk(std::uint64_t cookie, std::uint16_t flags, std::uint16_t type, Bytes payload) {
  ByteVector out;
  Writer w(out);
  encode_structured_reply_header({flags, type, cookie, 0, payload.size()}, w);
  w.bytes(payload);
  return out;
}

ByteVector extended_chunk(std::uint64_t cookie, std::uint64_t request_offset, std::uint16_t flags,
                          std::uint16_t type, Bytes payload) {
  ByteVector out;
  Writer w(out);
  encode_extended_reply_header({flags, type, cookie, request_offset, payload.size()}, w);
  w.bytes(payload);
  return out;
}

ByteVector data_payload(std::uint64_t offset, Bytes data) {
  ByteVector out;
  Writer w(out);
  encode_offset_data({offset, data}, w);
  return out;
}

ByteVector hole_payload(std::uint64_t offset, std::uint32_t length) {
  ByteVector out;
  Writer w(out);
  encode_offset_hole({offset, length}, w);
  return out;
}

ByteVector error_payload(std::uint32_t error, std::string_view message,
                         std::optional<std::uint64_t> offset) {
  ByteVector out;
  Writer w(out);
  encode_error_chunk({error, message, offset}, w);
  return out;
}

ByteVector block_status_payload(std::uint32_t context, std::vector<BlockDescriptor> d) {
  ByteVector out;
  Writer w(out);
  encode_block_status(context, d, w);
  return out;
}

ByteVector block_status_ext_payload(std::uint32_t context, std::vector<BlockDescriptor> d) {
  ByteVector out;
  Writer w(out);
  encode_block_status_ext(context, d, w);
  return out;
}

}  // namespace nbdref::test
