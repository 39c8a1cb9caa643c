// What the probe reads from a server, as plain values a check can inspect:
// the greeting, option replies with their raw payloads, the answer to
// NBD_OPT_EXPORT_NAME, and complete transmission replies (every chunk with
// its payload). Payloads stay raw so that each check decodes, and judges,
// only what its clauses are about.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "wire/handshake.hpp"
#include "wire/option_reply.hpp"
#include "wire/reply.hpp"

namespace nbdref::conform {

struct Greeting {
  wire::GreetingStyle style = wire::GreetingStyle::Newstyle;
  std::uint16_t handshake_flags = 0;   // newstyle
  wire::OldstyleGreeting oldstyle;     // oldstyle: size and the 32-bit flags
  std::vector<std::uint8_t> reserved;  // oldstyle: the 124 reserved bytes
};

struct OptionReply {
  std::uint32_t option = 0;  // as echoed by the server
  std::uint32_t type = 0;    // NBD_REP_*
  std::vector<std::uint8_t> payload;

  bool is_error() const;
  bool is_final() const;  // NBD_REP_ACK or an error ends an option's replies
  // "NBD_REP_ERR_UNSUP (2147483649) for NBD_OPT_LIST (3), message \"...\"".
  std::string describe() const;
};

// The option replies of one option, the final one last.
using OptionReplies = std::vector<OptionReply>;

// The payloads of the NBD_REP_INFO replies in `replies`, decoded (names and
// descriptions are views into `replies`, which must outlive them). Throws a
// ProbeError Violation naming the clause when one breaks its layout.
std::vector<wire::InfoReply> decode_infos(const OptionReplies& replies);
// The NBD_INFO_EXPORT item among them, if any.
std::optional<wire::InfoExport> find_export_info(const std::vector<wire::InfoReply>& infos);
// "size 67108864, flags NBD_FLAG_HAS_FLAGS|...".
std::string describe_export(std::uint64_t size, std::uint16_t flags);

struct ExportNameAnswer {
  wire::ExportNameReply reply;
  std::vector<std::uint8_t> padding;  // the 124 bytes, when they were expected
};

struct ReplyChunk {
  wire::ReplyKind kind = wire::ReplyKind::Structured;  // Structured or Extended
  wire::ChunkHeader header;
  std::vector<std::uint8_t> payload;
};

// One complete reply to one request: a simple reply (with the data of a
// successful READ), or every chunk up to the one flagged DONE.
struct TransmissionReply {
  wire::ReplyKind kind = wire::ReplyKind::Simple;  // of the first message
  std::uint32_t simple_error = 0;
  std::vector<std::uint8_t> data;  // simple READ success
  std::vector<ReplyChunk> chunks;

  bool is_simple() const { return kind == wire::ReplyKind::Simple; }
  // The error the reply reports: the simple reply's, or the first error
  // chunk's; 0 for success.
  std::uint32_t error() const;
  // "simple reply, error NBD_EINVAL (22)" or "structured reply: 2 chunks
  // (NBD_REPLY_TYPE_OFFSET_DATA, NBD_REPLY_TYPE_NONE)".
  std::string describe() const;
};

// "NBD_EINVAL (22)", "0 (success)" or "unknown error 99".
std::string describe_nbd_error(std::uint32_t error);

}  // namespace nbdref::conform
