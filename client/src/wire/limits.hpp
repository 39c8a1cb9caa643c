// Sizes of the fixed-layout messages and the protocol's bounds on
// variable-length fields.
#pragma once

#include <cstddef>
#include <cstdint>

namespace nbdref::wire {

// proto.md "Conventions": no string on the wire exceeds 4096 bytes (S-GEN-003, C-GEN-003).
inline constexpr std::size_t MAX_STRING_LENGTH = 4096;
// ... and portable strings stay within 256 (S-GEN-002, C-GEN-002).
inline constexpr std::size_t PORTABLE_STRING_LENGTH = 256;

// "Handshake": NBDMAGIC plus the second magic decides oldstyle or newstyle.
inline constexpr std::size_t GREETING_PREFIX_SIZE = 16;
inline constexpr std::size_t OLDSTYLE_GREETING_SIZE = 16 + 8 + 4 + 124;
inline constexpr std::size_t OLDSTYLE_GREETING_REST_SIZE = OLDSTYLE_GREETING_SIZE - 16;
inline constexpr std::size_t NEWSTYLE_GREETING_SIZE = 16 + 2;
inline constexpr std::size_t HANDSHAKE_FLAGS_SIZE = 2;
inline constexpr std::size_t CLIENT_FLAGS_SIZE = 4;
inline constexpr std::size_t OPTION_REQUEST_HEADER_SIZE = 8 + 4 + 4;
inline constexpr std::size_t OPTION_REPLY_HEADER_SIZE = 8 + 4 + 4 + 4;
inline constexpr std::size_t EXPORT_NAME_REPLY_SIZE = 8 + 2;
inline constexpr std::size_t EXPORT_NAME_REPLY_PADDING = 124;

// "Transmission": request and reply headers.
inline constexpr std::size_t COMPACT_REQUEST_SIZE = 28;
inline constexpr std::size_t EXTENDED_REQUEST_SIZE = 32;
inline constexpr std::size_t REPLY_MAGIC_SIZE = 4;
inline constexpr std::size_t SIMPLE_REPLY_SIZE = 16;
inline constexpr std::size_t STRUCTURED_REPLY_HEADER_SIZE = 20;
inline constexpr std::size_t EXTENDED_REPLY_HEADER_SIZE = 32;

// "Structured reply types": fixed parts of the chunk payloads.
inline constexpr std::size_t OFFSET_DATA_PREFIX_SIZE = 8;
inline constexpr std::size_t OFFSET_HOLE_SIZE = 12;
inline constexpr std::size_t ERROR_CHUNK_MIN_SIZE = 6;
inline constexpr std::size_t ERROR_OFFSET_CHUNK_MIN_SIZE = 14;
inline constexpr std::size_t BLOCK_STATUS_DESCRIPTOR_SIZE = 8;
inline constexpr std::size_t BLOCK_STATUS_EXT_DESCRIPTOR_SIZE = 16;
// A status chunk should carry at most 2^20 descriptors (S-BS-046).
inline constexpr std::size_t MAX_BLOCK_STATUS_DESCRIPTORS = std::size_t{1} << 20;

// "Size constraints": the payload limit every portable peer accepts (C-SZ-005, C-SZ-007).
inline constexpr std::uint64_t DEFAULT_MAX_PAYLOAD = std::uint64_t{1} << 25;
inline constexpr std::uint32_t MAX_MINIMUM_BLOCK_SIZE = 1u << 16;  // S-SZ-008

}  // namespace nbdref::wire
