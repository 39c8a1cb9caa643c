// Probe: requests and replies of the transmission phase.
#include <cstdio>
#include <stdexcept>

#include "probe/probe.hpp"
#include "probe/probe_error.hpp"
#include "wire/bytes.hpp"
#include "wire/constants.hpp"
#include "wire/limits.hpp"

namespace nbdref::conform {
namespace {

// Chunks of one reply beyond which the server is taken to be looping.
constexpr std::size_t kMaxChunksPerReply = 100'000;
// An error chunk: error, message length, a message of at most 4096 bytes
// (S-SR-030), and the offset of NBD_REPLY_TYPE_ERROR_OFFSET.
constexpr std::uint64_t kMaxErrorChunk =
    wire::ERROR_OFFSET_CHUNK_MIN_SIZE + wire::MAX_STRING_LENGTH;
// The most READ data the probe takes in one simple reply; checks ask for far
// less, but a server may wrongly accept an absurd request.
constexpr std::uint64_t kMaxSimpleReadData = std::uint64_t{64} << 20;

std::string hex64(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%#llx", static_cast<unsigned long long>(v));
  return buf;
}

std::vector<std::uint8_t> concat(const std::vector<std::uint8_t>& a,
                                 const std::vector<std::uint8_t>& b) {
  std::vector<std::uint8_t> out(a);
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

// The largest chunk payload `request` can be answered with, and the clause
// that sets the bound.
struct ChunkBound {
  std::uint64_t bytes;
  const char* clause;
};
ChunkBound chunk_bound(const wire::RequestHeader& request) {
  switch (request.type) {
    case wire::NBD_CMD_READ:
      // S-SR-021: content lies within the request (8 bytes of offset first).
      return {std::max(request.length + wire::OFFSET_DATA_PREFIX_SIZE, kMaxErrorChunk), "S-SR-021"};
    case wire::NBD_CMD_BLOCK_STATUS:
      // S-BS-046: at most 2^20 descriptors, 16 bytes each in the widest form.
      return {8 + wire::BLOCK_STATUS_EXT_DESCRIPTOR_SIZE * wire::MAX_BLOCK_STATUS_DESCRIPTORS,
              "S-BS-046"};
    default:
      // Only error chunks (and NONE) answer the other commands (S-SR-026).
      return {kMaxErrorChunk, "S-SR-026"};
  }
}

std::string describe_request(const wire::RequestHeader& h, bool extended) {
  return std::string(extended ? "extended " : "") + "request " + wire::describe_command(h.type) +
         ", flags " + wire::describe_command_flags(h.flags) + ", offset " +
         std::to_string(h.offset) + ", length " + std::to_string(h.length) + ", cookie " +
         hex64(h.cookie);
}

}  // namespace

wire::RequestHeader Probe::send_request(std::uint16_t type, std::uint16_t flags,
                                        std::uint64_t offset, std::uint64_t length,
                                        std::span<const std::uint8_t> payload) {
  wire::RequestHeader h{flags, type, next_cookie_++, offset, length};
  std::vector<std::uint8_t> bytes(extended_headers_ ? wire::EXTENDED_REQUEST_SIZE
                                                    : wire::COMPACT_REQUEST_SIZE);
  if (extended_headers_) {
    wire::encode_extended_request(h, bytes.data());
  } else {
    wire::encode_compact_request(h, bytes.data());
  }
  std::string description = describe_request(h, extended_headers_);
  if (!payload.empty()) description += ", " + std::to_string(payload.size()) + " bytes of payload";
  bytes.insert(bytes.end(), payload.begin(), payload.end());
  channel_.send(bytes, description);
  // S-TX-041: NBD_CMD_DISC has no reply.
  if (type != wire::NBD_CMD_DISC) in_flight_.emplace(h.cookie, Answer{h, TransmissionReply{}});
  return h;
}

TransmissionReply Probe::read_reply(const wire::RequestHeader& request) {
  for (;;) {
    for (auto it = completed_.begin(); it != completed_.end(); ++it) {
      if (it->request.cookie == request.cookie) {
        TransmissionReply reply = std::move(it->reply);
        completed_.erase(it);
        return reply;
      }
    }
    if (!in_flight_.contains(request.cookie)) {
      throw std::logic_error("read_reply: request " + hex64(request.cookie) + " is not in flight");
    }
    if (const auto done = read_reply_message()) completed_.push_back(take_completed(*done));
  }
}

Probe::Answer Probe::read_next_reply() {
  if (!completed_.empty()) {
    Answer answer = std::move(completed_.front());
    completed_.pop_front();
    return answer;
  }
  if (in_flight_.empty()) throw std::logic_error("read_next_reply: no request in flight");
  for (;;) {
    if (const auto done = read_reply_message()) return take_completed(*done);
  }
}

Probe::Answer Probe::take_completed(std::uint64_t cookie) {
  auto node = in_flight_.extract(cookie);
  answered_.insert(cookie);
  return std::move(node.mapped());
}

std::optional<std::uint64_t> Probe::read_reply_message() {
  const std::string what =
      in_flight_.size() == 1
          ? "the reply to " + wire::describe_command(in_flight_.begin()->second.request.type)
          : "a reply to one of " + std::to_string(in_flight_.size()) + " requests in flight";
  const auto magic_bytes = channel_.receive(wire::REPLY_MAGIC_SIZE, what);
  auto kind = wire::classify_reply_magic(wire::load_be32(magic_bytes.data()));
  if (!kind) {
    transcript().received("reply with an unknown magic", magic_bytes);
    // X-S-005, S-TX-001: every reply starts with the magic of the form
    // negotiated (with structured replies, simple or structured).
    const ProbeError error = violation(what, kind.error());
    const char* clause =
        extended_headers_ ? "X-S-005" : (structured_replies_ ? nullptr : "S-TX-001");
    if (!clause || !error.clause().empty()) throw error;
    throw ProbeError(ProbeError::Kind::Violation, std::string(error.what()) + " [" + clause + "]",
                     clause);
  }
  const auto rest = channel_.receive(wire::reply_header_size(*kind) - wire::REPLY_MAGIC_SIZE, what);
  const auto header_bytes = concat(magic_bytes, rest);

  // S-TX-002 (proto.md "Transmission"): a reply echoes the cookie of a
  // request in flight; S-SR-007: nothing follows a reply's final message.
  const auto find_request = [&](std::uint64_t cookie, const std::string& message) -> Answer& {
    const auto it = in_flight_.find(cookie);
    if (it != in_flight_.end()) return it->second;
    transcript().received(message, header_bytes);
    if (answered_.contains(cookie)) {
      throw ProbeError(ProbeError::Kind::Violation,
                       message + " arrived after the reply to that request was complete [S-SR-007]",
                       "S-SR-007");
    }
    throw ProbeError(ProbeError::Kind::Violation,
                     message + " carries a cookie no request in flight has [S-TX-002]", "S-TX-002");
  };

  if (*kind == wire::ReplyKind::Simple) {
    auto simple = wire::decode_simple_reply(header_bytes);
    if (!simple) throw violation(what, simple.error());
    const std::string text = "simple reply, error " + describe_nbd_error(simple->error) +
                             ", cookie " + hex64(simple->cookie);
    Answer& answer = find_request(simple->cookie, text);
    transcript().received(text, header_bytes);
    const wire::RequestHeader& request = answer.request;
    TransmissionReply& reply = answer.reply;
    if (!reply.chunks.empty()) {
      throw ProbeError(ProbeError::Kind::Violation,
                       "the reply to " + wire::describe_command(request.type) +
                           ": a simple reply arrived before the chunk flagged "
                           "NBD_REPLY_FLAG_DONE [S-SR-007]",
                       "S-SR-007");
    }
    reply.kind = wire::ReplyKind::Simple;
    reply.simple_error = simple->error;
    // S-TX-031: a successful simple READ reply carries exactly the
    // requested bytes; S-TX-034: a failed one carries none.
    if (simple->error == 0 && request.type == wire::NBD_CMD_READ && request.length > 0) {
      if (request.length > kMaxSimpleReadData) {
        throw ProbeError(ProbeError::Kind::Io,
                         "the reply to NBD_CMD_READ: the server accepted a READ of " +
                             std::to_string(request.length) + " bytes; the probe reads at most " +
                             std::to_string(kMaxSimpleReadData) + " in one reply");
      }
      reply.data = channel_.receive(request.length, "the data of the simple reply to NBD_CMD_READ");
      transcript().received("read data", reply.data);
    }
    return request.cookie;
  }

  auto header = *kind == wire::ReplyKind::Structured
                    ? wire::decode_structured_reply_header(header_bytes)
                    : wire::decode_extended_reply_header(header_bytes);
  if (!header) throw violation(what, header.error());
  ReplyChunk chunk;
  chunk.kind = *kind;
  chunk.header = *header;
  const std::string chunk_text =
      std::string(*kind == wire::ReplyKind::Extended ? "extended" : "structured") + " chunk " +
      wire::describe_reply_type(header->type) +
      (header->flags & wire::NBD_REPLY_FLAG_DONE ? ", flags DONE" : "") +
      (header->flags & ~wire::NBD_REPLY_FLAG_DONE
           ? ", other flags " + std::to_string(header->flags & ~wire::NBD_REPLY_FLAG_DONE)
           : "") +
      ", cookie " + hex64(header->cookie) +
      (*kind == wire::ReplyKind::Extended ? ", offset " + std::to_string(header->offset) : "") +
      ", length " + std::to_string(header->length);
  Answer& answer = find_request(header->cookie, "a reply chunk");
  const wire::RequestHeader& request = answer.request;
  TransmissionReply& reply = answer.reply;
  const std::string reply_name = "the reply to " + wire::describe_command(request.type);
  const ChunkBound bound = chunk_bound(request);
  if (header->length > bound.bytes) {
    transcript().received(chunk_text, header_bytes);
    throw ProbeError(ProbeError::Kind::Violation,
                     reply_name + ": a chunk of " + std::to_string(header->length) +
                         " bytes is longer than any valid answer to this request (" +
                         std::to_string(bound.bytes) + ") [" + bound.clause + "]",
                     bound.clause);
  }
  try {
    chunk.payload = channel_.receive(header->length, "the payload of a " + chunk_text);
  } catch (const ProbeError&) {
    transcript().received(chunk_text, header_bytes);
    throw;
  }
  transcript().received(chunk_text, concat(header_bytes, chunk.payload));
  if (reply.chunks.empty()) reply.kind = *kind;
  const bool done = (header->flags & wire::NBD_REPLY_FLAG_DONE) != 0;
  reply.chunks.push_back(std::move(chunk));
  if (done) return request.cookie;
  if (reply.chunks.size() >= kMaxChunksPerReply) {
    throw ProbeError(ProbeError::Kind::Violation, reply_name + ": more than " +
                                                      std::to_string(kMaxChunksPerReply) +
                                                      " chunks without NBD_REPLY_FLAG_DONE");
  }
  return std::nullopt;
}

}  // namespace nbdref::conform
