// Every number the NBD protocol defines, each table written once: the
// enumerators and their printable names are generated from the same list.
// Values from proto.md "Values" and proto-extended-headers.md.
#pragma once

#include <cstdint>
#include <string>

namespace nbdref::wire {

// ---- magics (proto.md "Handshake", "Transmission") ----
inline constexpr std::uint64_t NBDMAGIC = 0x4e42444d41474943ULL;      // "NBDMAGIC"
inline constexpr std::uint64_t IHAVEOPT = 0x49484156454F5054ULL;      // "IHAVEOPT"
inline constexpr std::uint64_t OLDSTYLE_MAGIC = 0x00420281861253ULL;  // cliserv_magic
inline constexpr std::uint64_t OPTION_REPLY_MAGIC = 0x3e889045565a9ULL;
inline constexpr std::uint32_t NBD_REQUEST_MAGIC = 0x25609513;
inline constexpr std::uint32_t NBD_EXTENDED_REQUEST_MAGIC = 0x21e41c71;
inline constexpr std::uint32_t NBD_SIMPLE_REPLY_MAGIC = 0x67446698;
inline constexpr std::uint32_t NBD_STRUCTURED_REPLY_MAGIC = 0x668e33ef;
inline constexpr std::uint32_t NBD_EXTENDED_REPLY_MAGIC = 0x6e8a278c;

// ---- tables: X(name, value) ----
// clang-format off
#define NBDREF_HANDSHAKE_FLAGS(X)  \
  X(NBD_FLAG_FIXED_NEWSTYLE, 1u << 0) \
  X(NBD_FLAG_NO_ZEROES, 1u << 1)

#define NBDREF_CLIENT_FLAGS(X)       \
  X(NBD_FLAG_C_FIXED_NEWSTYLE, 1u << 0) \
  X(NBD_FLAG_C_NO_ZEROES, 1u << 1)

#define NBDREF_TRANSMISSION_FLAGS(X)        \
  X(NBD_FLAG_HAS_FLAGS, 1u << 0)             \
  X(NBD_FLAG_READ_ONLY, 1u << 1)             \
  X(NBD_FLAG_SEND_FLUSH, 1u << 2)            \
  X(NBD_FLAG_SEND_FUA, 1u << 3)              \
  X(NBD_FLAG_ROTATIONAL, 1u << 4)            \
  X(NBD_FLAG_SEND_TRIM, 1u << 5)             \
  X(NBD_FLAG_SEND_WRITE_ZEROES, 1u << 6)     \
  X(NBD_FLAG_SEND_DF, 1u << 7)               \
  X(NBD_FLAG_CAN_MULTI_CONN, 1u << 8)        \
  X(NBD_FLAG_SEND_RESIZE, 1u << 9)           \
  X(NBD_FLAG_SEND_CACHE, 1u << 10)           \
  X(NBD_FLAG_SEND_FAST_ZERO, 1u << 11)       \
  X(NBD_FLAG_BLOCK_STATUS_PAYLOAD, 1u << 12)

#define NBDREF_OPTIONS(X)           \
  X(NBD_OPT_EXPORT_NAME, 1)         \
  X(NBD_OPT_ABORT, 2)               \
  X(NBD_OPT_LIST, 3)                \
  X(NBD_OPT_PEEK_EXPORT, 4)         \
  X(NBD_OPT_STARTTLS, 5)            \
  X(NBD_OPT_INFO, 6)                \
  X(NBD_OPT_GO, 7)                  \
  X(NBD_OPT_STRUCTURED_REPLY, 8)    \
  X(NBD_OPT_LIST_META_CONTEXT, 9)   \
  X(NBD_OPT_SET_META_CONTEXT, 10)   \
  X(NBD_OPT_EXTENDED_HEADERS, 11)

#define NBDREF_OPTION_REPLIES(X)                  \
  X(NBD_REP_ACK, 1u)                              \
  X(NBD_REP_SERVER, 2u)                           \
  X(NBD_REP_INFO, 3u)                             \
  X(NBD_REP_META_CONTEXT, 4u)                     \
  X(NBD_REP_ERR_UNSUP, (1u << 31) + 1)            \
  X(NBD_REP_ERR_POLICY, (1u << 31) + 2)           \
  X(NBD_REP_ERR_INVALID, (1u << 31) + 3)          \
  X(NBD_REP_ERR_PLATFORM, (1u << 31) + 4)         \
  X(NBD_REP_ERR_TLS_REQD, (1u << 31) + 5)         \
  X(NBD_REP_ERR_UNKNOWN, (1u << 31) + 6)          \
  X(NBD_REP_ERR_SHUTDOWN, (1u << 31) + 7)         \
  X(NBD_REP_ERR_BLOCK_SIZE_REQD, (1u << 31) + 8)  \
  X(NBD_REP_ERR_TOO_BIG, (1u << 31) + 9)          \
  X(NBD_REP_ERR_EXT_HEADER_REQD, (1u << 31) + 10)

#define NBDREF_INFO_TYPES(X)   \
  X(NBD_INFO_EXPORT, 0)        \
  X(NBD_INFO_NAME, 1)          \
  X(NBD_INFO_DESCRIPTION, 2)   \
  X(NBD_INFO_BLOCK_SIZE, 3)

#define NBDREF_COMMANDS(X)       \
  X(NBD_CMD_READ, 0)             \
  X(NBD_CMD_WRITE, 1)            \
  X(NBD_CMD_DISC, 2)             \
  X(NBD_CMD_FLUSH, 3)            \
  X(NBD_CMD_TRIM, 4)             \
  X(NBD_CMD_CACHE, 5)            \
  X(NBD_CMD_WRITE_ZEROES, 6)     \
  X(NBD_CMD_BLOCK_STATUS, 7)     \
  X(NBD_CMD_RESIZE, 8)

#define NBDREF_COMMAND_FLAGS(X)         \
  X(NBD_CMD_FLAG_FUA, 1u << 0)          \
  X(NBD_CMD_FLAG_NO_HOLE, 1u << 1)      \
  X(NBD_CMD_FLAG_DF, 1u << 2)           \
  X(NBD_CMD_FLAG_REQ_ONE, 1u << 3)      \
  X(NBD_CMD_FLAG_FAST_ZERO, 1u << 4)    \
  X(NBD_CMD_FLAG_PAYLOAD_LEN, 1u << 5)

#define NBDREF_REPLY_FLAGS(X) X(NBD_REPLY_FLAG_DONE, 1u << 0)

#define NBDREF_REPLY_TYPES(X)                       \
  X(NBD_REPLY_TYPE_NONE, 0)                         \
  X(NBD_REPLY_TYPE_OFFSET_DATA, 1)                  \
  X(NBD_REPLY_TYPE_OFFSET_HOLE, 2)                  \
  X(NBD_REPLY_TYPE_BLOCK_STATUS, 5)                 \
  X(NBD_REPLY_TYPE_BLOCK_STATUS_EXT, 6)             \
  X(NBD_REPLY_TYPE_ERROR, (1u << 15) + 1)           \
  X(NBD_REPLY_TYPE_ERROR_OFFSET, (1u << 15) + 2)

#define NBDREF_ERRORS(X)   \
  X(NBD_EPERM, 1)          \
  X(NBD_EIO, 5)            \
  X(NBD_ENOMEM, 12)        \
  X(NBD_EINVAL, 22)        \
  X(NBD_ENOSPC, 28)        \
  X(NBD_EOVERFLOW, 75)     \
  X(NBD_ENOTSUP, 95)       \
  X(NBD_ESHUTDOWN, 108)

// clang-format on

#define NBDREF_ENUMERATOR(name, value) name = (value),

enum HandshakeFlag : std::uint16_t { NBDREF_HANDSHAKE_FLAGS(NBDREF_ENUMERATOR) };
enum ClientFlag : std::uint32_t { NBDREF_CLIENT_FLAGS(NBDREF_ENUMERATOR) };
enum TransmissionFlag : std::uint16_t { NBDREF_TRANSMISSION_FLAGS(NBDREF_ENUMERATOR) };
enum OptionType : std::uint32_t { NBDREF_OPTIONS(NBDREF_ENUMERATOR) };
enum OptionReplyType : std::uint32_t { NBDREF_OPTION_REPLIES(NBDREF_ENUMERATOR) };
enum InfoType : std::uint16_t { NBDREF_INFO_TYPES(NBDREF_ENUMERATOR) };
enum CommandType : std::uint16_t { NBDREF_COMMANDS(NBDREF_ENUMERATOR) };
enum CommandFlag : std::uint16_t { NBDREF_COMMAND_FLAGS(NBDREF_ENUMERATOR) };
enum ReplyFlag : std::uint16_t { NBDREF_REPLY_FLAGS(NBDREF_ENUMERATOR) };
enum ReplyType : std::uint16_t { NBDREF_REPLY_TYPES(NBDREF_ENUMERATOR) };
enum ErrorValue : std::uint32_t { NBDREF_ERRORS(NBDREF_ENUMERATOR) };

#undef NBDREF_ENUMERATOR

// Bits a client may ever set in its 32-bit flags (C-HS-013).
inline constexpr std::uint32_t KNOWN_CLIENT_FLAGS =
    NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES;
// Error reply types and error chunk types are marked by their top bit.
inline constexpr std::uint32_t NBD_REP_FLAG_ERROR = 1u << 31;
inline constexpr std::uint16_t NBD_REPLY_TYPE_FLAG_ERROR = 1u << 15;

inline constexpr bool is_error_reply(std::uint32_t reply_type) {
  return (reply_type & NBD_REP_FLAG_ERROR) != 0;
}
inline constexpr bool is_error_chunk(std::uint16_t chunk_type) {
  return (chunk_type & NBD_REPLY_TYPE_FLAG_ERROR) != 0;
}

// Names of single values ("NBD_OPT_GO"), or nullptr when the value is unknown.
const char* option_name(std::uint32_t v);
const char* option_reply_name(std::uint32_t v);
const char* info_name(std::uint16_t v);
const char* command_name(std::uint16_t v);
const char* reply_type_name(std::uint16_t v);
const char* error_name(std::uint32_t v);

// Printable descriptions for messages: "NBD_OPT_GO (7)" or "unknown option 99".
std::string describe_option(std::uint32_t v);
std::string describe_option_reply(std::uint32_t v);
std::string describe_command(std::uint16_t v);
std::string describe_reply_type(std::uint16_t v);

// Flag sets as "NBD_FLAG_HAS_FLAGS|NBD_FLAG_SEND_FLUSH|0x8000" ("0" when empty).
std::string describe_handshake_flags(std::uint16_t flags);
std::string describe_client_flags(std::uint32_t flags);
std::string describe_transmission_flags(std::uint16_t flags);
std::string describe_command_flags(std::uint16_t flags);

}  // namespace nbdref::wire
