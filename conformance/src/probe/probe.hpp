// A strict, raw NBD client for conformance checks: one connection, driven
// one message at a time. It sends exactly what a check asks for (well-formed
// or not), reads every reply completely into plain values, checks the
// framing the wire codec knows (magics, lengths, cookies) and records every
// byte in the transcript. It remembers what the server acknowledged
// (structured replies, extended headers) so requests and replies take the
// negotiated form. Every failure is a ProbeError (see probe_error.hpp).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "probe/byte_channel.hpp"
#include "probe/messages.hpp"
#include "wire/request.hpp"

namespace nbdref::conform {

class Probe {
 public:
  explicit Probe(ByteChannel channel) : channel_(std::move(channel)) {}

  ByteChannel& channel() { return channel_; }
  Transcript& transcript() { return channel_.transcript(); }

  // ---- handshake (proto.md "Handshake")
  // The 16-byte prefix, then the newstyle handshake flags or the rest of the
  // oldstyle greeting. A wrong NBDMAGIC or second magic is a Violation.
  Greeting read_greeting();
  // The greeting read_greeting() returned, once it has been read.
  const std::optional<Greeting>& greeting() const { return greeting_; }
  void send_client_flags(std::uint32_t flags);
  // The reply to NBD_OPT_EXPORT_NAME: size and flags, then the 124 padding
  // bytes when `padding` (they are returned, not judged; their absence by
  // the deadline is a Violation of S-HS-017).
  ExportNameAnswer read_export_name_reply(bool padding);

  // ---- option haggling (proto.md "Fixed newstyle negotiation")
  // IHAVEOPT, option, data length, data; `detail` says what the data is.
  void send_option(std::uint32_t option, std::span<const std::uint8_t> data,
                   const std::string& detail = {});
  // Any bytes at all, for requests no encoder would produce.
  void send_raw(std::span<const std::uint8_t> bytes, std::string description);
  // One reply. Its magic must be right and it must answer `option`
  // (S-OPT-020); its payload is bounded by what a reply can hold.
  OptionReply read_option_reply(std::uint32_t option);
  // Replies up to and including the final one (NBD_REP_ACK or an error).
  OptionReplies read_option_replies(std::uint32_t option);
  // send_option then read_option_replies.
  OptionReplies request_option(std::uint32_t option, std::span<const std::uint8_t> data = {},
                               const std::string& detail = {});
  // NBD_OPT_INFO or NBD_OPT_GO with a well-formed request.
  OptionReplies request_info(std::uint32_t option, std::string_view export_name,
                             const std::vector<std::uint16_t>& info_types = {});
  // NBD_OPT_LIST_META_CONTEXT or NBD_OPT_SET_META_CONTEXT.
  OptionReplies request_meta_context(std::uint32_t option, std::string_view export_name,
                                     const std::vector<std::string>& queries);

  // What the server has acknowledged so far on this connection.
  bool structured_replies() const { return structured_replies_; }
  bool extended_headers() const { return extended_headers_; }

  // ---- transmission (proto.md "Transmission")
  // Sends a request in the negotiated header form with a fresh cookie
  // (returned in the header) and `payload` after it. Every request but
  // NBD_CMD_DISC is then in flight until a read below returns its reply, so
  // that several requests can be in flight at once.
  wire::RequestHeader send_request(std::uint16_t type, std::uint16_t flags, std::uint64_t offset,
                                   std::uint64_t length,
                                   std::span<const std::uint8_t> payload = {});
  // The complete reply to `request`: a simple reply (with the data of a
  // successful READ), or chunks up to the one flagged DONE. Replies to other
  // requests in flight that complete first are kept for later reads.
  TransmissionReply read_reply(const wire::RequestHeader& request);
  // The first reply to complete among all requests in flight, whichever it
  // answers (S-TX-003: a server may answer out of order, and chunks of
  // different replies may interleave, S-SR-006).
  struct Answer {
    wire::RequestHeader request;
    TransmissionReply reply;
  };
  Answer read_next_reply();
  // Requests sent whose complete reply no read has returned yet.
  std::size_t in_flight() const { return in_flight_.size() + completed_.size(); }
  // Whatever reads, every message must carry the cookie of a request in
  // flight (S-TX-002), nothing may follow a reply's DONE chunk or simple
  // reply (S-SR-007), and payloads are bounded by what the request allows.

 private:
  void note_acknowledged(std::uint32_t option, const OptionReply& final_reply);
  // Reads one simple reply or one chunk and adds it to the reply of the
  // request in flight it names; returns that request's cookie when the
  // reply is now complete.
  std::optional<std::uint64_t> read_reply_message();
  Answer take_completed(std::uint64_t cookie);

  // Replies being read, by cookie; `reply.chunks` holds the chunks so far.
  std::map<std::uint64_t, Answer> in_flight_;
  // Complete replies a read has not returned yet, in completion order.
  std::deque<Answer> completed_;
  // Cookies whose reply is complete: a later message for one breaks S-SR-007.
  std::set<std::uint64_t> answered_;

  ByteChannel channel_;
  std::optional<Greeting> greeting_;
  bool structured_replies_ = false;
  bool extended_headers_ = false;
  // Cookies use all 64 bits, so a server that keeps only some of them shows.
  std::uint64_t next_cookie_ = 0x6e62647265660001ULL;
};

}  // namespace nbdref::conform
