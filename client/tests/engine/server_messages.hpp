// Builders for the bytes a server sends, so engine tests read as a
// conversation. Everything is encoded with the wire codec.
#pragma once

#include <string_view>
#include <vector>

#include "wire/chunk.hpp"
#include "wire/constants.hpp"
#include "wire/handshake.hpp"
#include "wire/option_reply.hpp"
#include "wire/reply.hpp"

namespace nbdref::test {

using ByteVector = std::vector<std::uint8_t>;

ByteVector newstyle_greeting(std::uint16_t flags = wire::NBD_FLAG_FIXED_NEWSTYLE |
                                                   wire::NBD_FLAG_NO_ZEROES);
ByteVector oldstyle_greeting(std::uint64_t size, std::uint32_t flags);
ByteVector option_reply(std::uint32_t option, std::uint32_t type, wire::Bytes payload = {});
ByteVector ack(std::uint32_t option);
ByteVector info_export(std::uint32_t option, std::uint64_t size, std::uint16_t flags);
ByteVector info_reply(std::uint32_t option, const wire::InfoReply& info);
ByteVector meta_context(std::uint32_t option, std::uint32_t id, std::string_view name);
ByteVector server_entry(std::string_view name, std::string_view description);
ByteVector export_name_reply(std::uint64_t size, std::uint16_t flags, bool padding);

ByteVector simple_reply(std::uint64_t cookie, std::uint32_t error, wire::Bytes data = {});
// A structured (20-byte header) or, when `request_offset` is given, an
// extended (32-byte header) chunk.
ByteVector chunk(std::uint64_t cookie, std::uint16_t flags, std::uint16_t type,
                 wire::Bytes payload);
ByteVector extended_chunk(std::uint64_t cookie, std::uint64_t request_offset, std::uint16_t flags,
                          std::uint16_t type, wire::Bytes payload);
ByteVector data_payload(std::uint64_t offset, wire::Bytes data);
ByteVector hole_payload(std::uint64_t offset, std::uint32_t length);
ByteVector error_payload(std::uint32_t error, std::string_view message,
                         std::optional<std::uint64_t> offset = std::nullopt);
ByteVector block_status_payload(std::uint32_t context, std::vector<wire::BlockDescriptor> d);
ByteVector block_status_ext_payload(std::uint32_t context, std::vector<wire::BlockDescriptor> d);

inline constexpr std::uint16_t DONE = wire::NBD_REPLY_FLAG_DONE;
// Flags a typical read-write export advertises.
inline constexpr std::uint16_t RW_FLAGS =
    wire::NBD_FLAG_HAS_FLAGS | wire::NBD_FLAG_SEND_FLUSH | wire::NBD_FLAG_SEND_FUA |
    wire::NBD_FLAG_SEND_TRIM | wire::NBD_FLAG_SEND_WRITE_ZEROES | wire::NBD_FLAG_SEND_CACHE;

ByteVector operator+(ByteVector a, const ByteVector& b);

}  // namespace nbdref::test
