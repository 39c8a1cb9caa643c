// Transmission replies in the form the handshake agreed on (proto.md
// "Simple reply message", "Structured reply chunk message",
// proto-extended-headers.md "Extended reply chunk message"), appended to
// the session's output.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "script/serve_fault.hpp"
#include "wire/chunk.hpp"
#include "wire/request.hpp"

namespace nbdref::mock {

enum class ReplyStyle {
  Simple,      // nothing negotiated: simple replies only (S-TX-001)
  Structured,  // NBD_OPT_STRUCTURED_REPLY: 20-byte chunk headers
  Extended,    // NBD_OPT_EXTENDED_HEADERS: 32-byte chunk headers (X-B-001)
};

class ReplyWriter {
 public:
  // `fault` may break a rule of replies on purpose (script/serve_fault.hpp).
  ReplyWriter(ReplyStyle style, std::vector<std::uint8_t>& out,
              script::ServeFault fault = script::ServeFault::None)
      : style_(style), out_(out), fault_(fault) {}

  bool chunks() const { return style_ != ReplyStyle::Simple; }
  bool extended() const { return style_ == ReplyStyle::Extended; }

  // Success without data: a simple reply, which structured replies still
  // allow (S-SR-001), or a lone NBD_REPLY_TYPE_NONE when simple replies are
  // forbidden (X-S-004). Not for NBD_CMD_READ, which needs done().
  void success(const wire::RequestHeader& req);
  // NBD_REPLY_TYPE_NONE with NBD_REPLY_FLAG_DONE (S-SR-015, S-SR-018).
  void done(const wire::RequestHeader& req);
  // A failure: a simple reply with `error`, or one NBD_REPLY_TYPE_ERROR
  // chunk carrying `message` as well (S-SR-005).
  void error(const wire::RequestHeader& req, std::uint32_t error, std::string_view message);

  // The data of a successful simple-reply read goes in the returned span,
  // right after the header (S-TX-031). Fill it before the next call.
  std::span<std::uint8_t> simple_read(const wire::RequestHeader& req, std::size_t length);
  // An NBD_REPLY_TYPE_OFFSET_DATA chunk; its data goes in the returned span.
  std::span<std::uint8_t> offset_data(const wire::RequestHeader& req, std::uint64_t offset,
                                      std::size_t length, bool last);
  void offset_hole(const wire::RequestHeader& req, std::uint64_t offset, std::uint32_t length,
                   bool last);
  // One status chunk: NBD_REPLY_TYPE_BLOCK_STATUS, or _EXT with extended
  // headers (X-S-007, X-S-031, X-S-032).
  void block_status(const wire::RequestHeader& req, std::uint32_t context_id,
                    std::span<const wire::BlockDescriptor> descriptors, bool last);

 private:
  void chunk_header(const wire::RequestHeader& req, bool last, std::uint16_t type,
                    std::uint64_t length);

  ReplyStyle style_;
  std::vector<std::uint8_t>& out_;
  script::ServeFault fault_;
};

}  // namespace nbdref::mock
