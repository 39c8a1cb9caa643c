#include "engine/reply_reader.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "wire/constants.hpp"
#include "wire/limits.hpp"
#include "wire/nbd_errors.hpp"

namespace nbdref::engine {
namespace {

using namespace wire;

// Largest payload buffered for one status or error chunk. A server should
// send at most 2^20 status descriptors (S-BS-046), but a client should not
// take any reply payload of up to 32 MiB as an attack (C-SZ-007), plus the
// chunk's fixed fields (S-SZ-017); error chunks hold a string of at most
// 4096 bytes plus fixed fields. Beyond that the reply is refused rather
// than buffered (B-GEN-003).
constexpr std::uint64_t MAX_BLOCK_STATUS_PAYLOAD = DEFAULT_MAX_PAYLOAD + 4;
constexpr std::uint64_t MAX_BLOCK_STATUS_EXT_PAYLOAD = DEFAULT_MAX_PAYLOAD + 8;
constexpr std::uint64_t MAX_ERROR_PAYLOAD = 64 * 1024;
// Data at least this large is received straight into the caller's buffer.
constexpr std::uint64_t DIRECT_READ_MINIMUM = 16 * 1024;

bool error_offset_allowed(std::uint16_t type) {
  // S-SR-036 (proto.md "NBD_REPLY_TYPE_ERROR_OFFSET").
  return type == NBD_CMD_READ || type == NBD_CMD_WRITE || type == NBD_CMD_TRIM ||
         type == NBD_CMD_CACHE || type == NBD_CMD_WRITE_ZEROES || type == NBD_CMD_BLOCK_STATUS;
}

std::string server_error_text(std::uint32_t nbd_error, std::string_view message) {
  const char* name = error_name(nbd_error);
  std::string text =
      "the server reported " + (name ? std::string(name) : "error " + std::to_string(nbd_error));
  if (!message.empty()) text += ": " + std::string(message);
  return text;
}

}  // namespace

std::size_t ReplyReader::bytes_wanted() const {
  switch (state_) {
    case State::AwaitMagic:
      return REPLY_MAGIC_SIZE;
    case State::AwaitHeader:
      return reply_header_size(kind_);
    case State::AwaitDataOffset:
      return OFFSET_DATA_PREFIX_SIZE;
    case State::AwaitData:
      return 1;
    case State::AwaitChunkPayload:
      return static_cast<std::size_t>(chunk_.length);
  }
  return 0;
}

std::span<std::uint8_t> ReplyReader::direct_target() const {
  if (state_ != State::AwaitData || !core_.input.empty() || data_remaining_ < DIRECT_READ_MINIMUM) {
    return {};
  }
  return {data_dest_, static_cast<std::size_t>(data_remaining_)};
}

std::size_t ReplyReader::buffered_read_limit() const {
  const std::size_t in_flight = core_.commands.size();
  if (state_ != State::AwaitMagic || !core_.input.empty() || in_flight == 0 ||
      core_.commands.large_reads() != in_flight) {
    return SIZE_MAX;
  }
  // The reply a read gets in the negotiated form: a simple reply, or an
  // OFFSET_DATA chunk's header and offset.
  if (core_.session.extended_headers) return EXTENDED_REPLY_HEADER_SIZE + OFFSET_DATA_PREFIX_SIZE;
  if (core_.session.structured_replies) {
    return STRUCTURED_REPLY_HEADER_SIZE + OFFSET_DATA_PREFIX_SIZE;
  }
  return SIMPLE_REPLY_SIZE;
}

void ReplyReader::direct_received(std::size_t n) {
  data_dest_ += n;
  data_remaining_ -= n;
  if (data_remaining_ == 0) on_data_complete();
}

bool ReplyReader::step() {
  if (core_.phase != Phase::Ready) return false;
  if (state_ == State::AwaitData) {
    if (core_.input.empty()) return false;
    const std::size_t n =
        static_cast<std::size_t>(std::min<std::uint64_t>(data_remaining_, core_.input.size()));
    std::memcpy(data_dest_, core_.input.peek(n).data(), n);
    core_.input.consume(n);
    direct_received(n);
    return true;
  }
  const std::size_t need = bytes_wanted();
  if (core_.input.size() < need) return false;
  switch (state_) {
    case State::AwaitMagic:
      on_magic();
      break;
    case State::AwaitHeader: {
      const Bytes b = core_.input.peek(need);
      ++core_.stats.chunks_received;
      if (kind_ == ReplyKind::Simple) {
        auto r = decode_simple_reply(b);
        core_.input.consume(need);
        on_simple_reply(*r);
      } else {
        auto h = kind_ == ReplyKind::Structured ? decode_structured_reply_header(b)
                                                : decode_extended_reply_header(b);
        core_.input.consume(need);
        on_chunk_header(*h);
      }
      break;
    }
    case State::AwaitDataOffset:
      on_data_offset();
      break;
    case State::AwaitChunkPayload:
      // Handlers read views into the buffer: consume afterwards.
      on_chunk_payload(core_.input.peek(need));
      core_.input.consume(need);
      break;
    case State::AwaitData:
      break;
  }
  return true;
}

void ReplyReader::on_eof() {
  if (core_.phase != Phase::Ready) return;
  if (core_.disconnect_sent && core_.commands.empty() && state_ == State::AwaitMagic) {
    core_.phase = Phase::Closed;
    core_.debug("server closed the connection after NBD_CMD_DISC");
    return;
  }
  std::string message = "the server closed the connection";
  if (state_ != State::AwaitMagic) message += " in the middle of a reply";
  if (!core_.commands.empty()) {
    message += " with " + std::to_string(core_.commands.size()) + " command(s) in flight";
  }
  core_.die(Error{ECONNRESET, message});
}

// ---- headers ----

void ReplyReader::on_magic() {
  const std::uint32_t magic = load_be32(core_.input.peek(REPLY_MAGIC_SIZE).data());
  auto kind = classify_reply_magic(magic);
  if (!kind) {
    core_.violation("bad reply: " + kind.error().to_string(), kind.error().clause);
    return;
  }
  const auto& s = core_.session;
  // Each header form is allowed only as negotiated (proto.md "Transmission").
  if (*kind == ReplyKind::Simple && s.extended_headers) {
    core_.violation("sent a simple reply although extended headers were negotiated", "X-S-004");
    return;
  }
  if (*kind == ReplyKind::Structured && s.extended_headers) {
    core_.violation("sent a structured reply chunk although extended headers were negotiated",
                    "X-B-001");
    return;
  }
  if (*kind == ReplyKind::Structured && !s.structured_replies) {
    core_.violation(
        "sent a structured reply chunk although structured replies were not "
        "negotiated",
        "S-SR-002");
    return;
  }
  if (*kind == ReplyKind::Extended && !s.extended_headers) {
    core_.violation("sent an extended reply chunk although extended headers were not negotiated",
                    "X-B-001");
    return;
  }
  kind_ = *kind;
  state_ = State::AwaitHeader;
}

bool ReplyReader::fully_sent(const Command& c) {
  if (c.output_end <= core_.output.sent()) return true;
  // S-TX-002 (proto.md "Transmission"): a reply echoes a request the server
  // received. One for a request still (partly) in our output queue is
  // forged; taking it would also complete a command whose buffers the
  // queue still reads from.
  core_.violation("answered cookie " + std::to_string(c.cookie) +
                      " before the client had finished sending that request",
                  "S-TX-002");
  return false;
}

void ReplyReader::on_simple_reply(const SimpleReply& r) {
  state_ = State::AwaitMagic;
  command_ = core_.commands.find(r.cookie);
  if (!command_) {
    core_.violation("sent a simple reply for cookie " + std::to_string(r.cookie) +
                        ", which matches no command in flight",
                    "S-TX-002");
    return;
  }
  if (!fully_sent(*command_)) return;
  const auto& req = command_->request;
  if (req.type == NBD_CMD_READ && core_.session.structured_replies) {
    core_.violation(
        "answered NBD_CMD_READ with a simple reply although structured replies were "
        "negotiated",
        "S-SR-004");
    return;
  }
  if (core_.debugging()) {
    core_.debug("simple reply cookie " + std::to_string(r.cookie) + " error " +
                std::to_string(r.error));
  }
  if (r.error != 0) {
    // S-TX-034: a failed simple read carries no payload.
    command_->record_error(errno_from_nbd_error(r.error), server_error_text(r.error, {}));
    note_server_error(r.error);
    finish_command();
    return;
  }
  if (req.type == NBD_CMD_READ && req.length > 0) {
    // S-TX-031: exactly `length` bytes of data follow.
    simple_data_ = true;
    data_offset_ = req.offset;
    data_start_ = data_dest_ = req.read_buffer;
    data_remaining_ = req.length;
    command_->coverage.insert_disjoint(req.offset, req.offset + req.length);
    state_ = State::AwaitData;
    return;
  }
  finish_command();
}

void ReplyReader::on_chunk_header(const ChunkHeader& h) {
  chunk_ = h;
  command_ = core_.commands.find(h.cookie);
  if (!command_) {
    core_.violation("sent a " + describe_reply_type(h.type) + " chunk for cookie " +
                        std::to_string(h.cookie) + ", which matches no command in flight",
                    "S-TX-002");
    return;
  }
  if (!fully_sent(*command_)) return;
  const auto& req = command_->request;
  if (core_.debugging()) {
    core_.debug("chunk " + describe_reply_type(h.type) + " cookie " + std::to_string(h.cookie) +
                " flags " + std::to_string(h.flags) + " length " + std::to_string(h.length));
  }
  if (kind_ == ReplyKind::Extended && h.offset != req.offset) {
    core_.violation("extended reply offset " + std::to_string(h.offset) +
                        " does not match the request offset " + std::to_string(req.offset),
                    "X-S-006");
    return;
  }
  // C-SR-006: unknown reply flags are ignored.
  // Named only when the chunk breaks a rule: the usual chunk builds no strings.
  const auto chunk_name = [&h] { return describe_reply_type(h.type); };
  const auto wrong_command = [&] {
    core_.violation("sent " + chunk_name() + " in reply to " + describe_command(req.type),
                    "S-SR-026");
  };
  const auto too_long = [&](std::uint64_t bound, const char* clause) {
    core_.violation(
        chunk_name() + " length " + std::to_string(h.length) + " exceeds " + std::to_string(bound),
        clause);
  };
  switch (h.type) {
    case NBD_REPLY_TYPE_NONE:
      if (auto e = check_none_chunk(h.length)) {
        core_.violation(e->to_string(), e->clause);
        return;
      }
      if (!(h.flags & NBD_REPLY_FLAG_DONE)) {
        core_.violation("NBD_REPLY_TYPE_NONE without NBD_REPLY_FLAG_DONE", "S-SR-015");
        return;
      }
      end_chunk();
      return;
    case NBD_REPLY_TYPE_OFFSET_DATA:
      if (req.type != NBD_CMD_READ) return wrong_command();
      if (auto e = check_offset_data_length(h.length)) {
        core_.violation(e->to_string(), e->clause);
        return;
      }
      // The data must fit the request (S-SR-021): checked before anything is read.
      if (h.length - OFFSET_DATA_PREFIX_SIZE > req.length) {
        return too_long(req.length + OFFSET_DATA_PREFIX_SIZE, "S-SR-021");
      }
      state_ = State::AwaitDataOffset;
      return;
    case NBD_REPLY_TYPE_OFFSET_HOLE:
      if (req.type != NBD_CMD_READ) return wrong_command();
      if (h.length != OFFSET_HOLE_SIZE) {
        core_.violation(
            "NBD_REPLY_TYPE_OFFSET_HOLE length " + std::to_string(h.length) + " must be exactly 12",
            "S-SR-024");
        return;
      }
      state_ = State::AwaitChunkPayload;
      return;
    case NBD_REPLY_TYPE_BLOCK_STATUS:
      if (req.type != NBD_CMD_BLOCK_STATUS) return wrong_command();
      if (core_.session.extended_headers) {
        core_.violation(
            "sent NBD_REPLY_TYPE_BLOCK_STATUS although extended headers were "
            "negotiated",
            "X-S-031");
        return;
      }
      if (h.length > MAX_BLOCK_STATUS_PAYLOAD)
        return too_long(MAX_BLOCK_STATUS_PAYLOAD, "C-SZ-007");
      state_ = State::AwaitChunkPayload;
      return;
    case NBD_REPLY_TYPE_BLOCK_STATUS_EXT:
      if (req.type != NBD_CMD_BLOCK_STATUS) return wrong_command();
      if (!core_.session.extended_headers) {
        core_.violation(
            "sent NBD_REPLY_TYPE_BLOCK_STATUS_EXT although extended headers were not "
            "negotiated",
            "X-S-032");
        return;
      }
      if (h.length > MAX_BLOCK_STATUS_EXT_PAYLOAD) {
        return too_long(MAX_BLOCK_STATUS_EXT_PAYLOAD, "C-SZ-007");
      }
      state_ = State::AwaitChunkPayload;
      return;
    default:
      if (is_error_chunk(h.type)) {
        if (h.length > MAX_ERROR_PAYLOAD) return too_long(MAX_ERROR_PAYLOAD, "S-SR-030");
        state_ = State::AwaitChunkPayload;
        return;
      }
      // C-SR-007 (proto.md "Structured reply types"): unknown non-error types end the connection.
      core_.violation("sent " + chunk_name() + ", which the client did not negotiate", "C-SR-007");
      return;
  }
}

// ---- content chunks ----

bool ReplyReader::claim_content(std::uint64_t offset, std::uint64_t length, const char* chunk) {
  const auto& req = command_->request;
  const std::uint64_t end = offset + length;
  if (offset < req.offset || end < offset || end > req.offset + req.length) {
    core_.violation(std::string(chunk) + " covers " + std::to_string(offset) + "+" +
                        std::to_string(length) + ", outside the request " +
                        std::to_string(req.offset) + "+" + std::to_string(req.length),
                    "S-SR-021");
    return false;
  }
  if ((req.flags & NBD_CMD_FLAG_DF) && command_->content_chunks > 0) {
    core_.violation(std::string(chunk) +
                        " is a second content chunk for a read with "
                        "NBD_CMD_FLAG_DF",
                    "S-SR-052");
    return false;
  }
  if (!command_->coverage.insert_disjoint(offset, end)) {
    core_.violation(std::string(chunk) + " at " + std::to_string(offset) + "+" +
                        std::to_string(length) + " overlaps data already received",
                    "S-SR-022");
    return false;
  }
  ++command_->content_chunks;
  return true;
}

void ReplyReader::on_data_offset() {
  const std::uint64_t offset = load_be64(core_.input.peek(OFFSET_DATA_PREFIX_SIZE).data());
  core_.input.consume(OFFSET_DATA_PREFIX_SIZE);
  const std::uint64_t length = chunk_.length - OFFSET_DATA_PREFIX_SIZE;
  if (!claim_content(offset, length, "NBD_REPLY_TYPE_OFFSET_DATA")) return;
  simple_data_ = false;
  data_offset_ = offset;
  data_start_ = data_dest_ = command_->request.read_buffer + (offset - command_->request.offset);
  data_remaining_ = length;
  state_ = State::AwaitData;
}

void ReplyReader::on_data_complete() {
  const std::size_t length = static_cast<std::size_t>(data_dest_ - data_start_);
  if (auto* l = command_->request.listener) {
    int error = command_->errnum;
    l->on_read_chunk({data_start_, length}, data_offset_, ReadChunk::Data, error);
    if (error != 0) command_->record_error(error, "the read's chunk callback failed");
  }
  if (simple_data_) {
    state_ = State::AwaitMagic;
    finish_command();
  } else {
    end_chunk();
  }
}

void ReplyReader::on_chunk_payload(Bytes payload) {
  switch (chunk_.type) {
    case NBD_REPLY_TYPE_OFFSET_HOLE:
      on_hole(payload);
      return;
    case NBD_REPLY_TYPE_BLOCK_STATUS:
    case NBD_REPLY_TYPE_BLOCK_STATUS_EXT:
      on_block_status(payload);
      return;
    default:
      on_error_chunk(payload);
      return;
  }
}

void ReplyReader::on_hole(Bytes payload) {
  auto hole = decode_offset_hole(payload);
  if (!hole) {
    core_.violation(hole.error().to_string(), hole.error().clause);
    return;
  }
  if (!claim_content(hole->offset, hole->length, "NBD_REPLY_TYPE_OFFSET_HOLE")) return;
  auto& req = command_->request;
  std::uint8_t* dest = req.read_buffer + (hole->offset - req.offset);
  std::memset(dest, 0, hole->length);
  if (auto* l = req.listener) {
    int error = command_->errnum;
    l->on_read_chunk({dest, hole->length}, hole->offset, ReadChunk::Hole, error);
    if (error != 0) command_->record_error(error, "the read's chunk callback failed");
  }
  end_chunk();
}

// ---- status chunks ----

void ReplyReader::on_block_status(Bytes payload) {
  const bool wide = chunk_.type == NBD_REPLY_TYPE_BLOCK_STATUS_EXT;
  auto view = wide ? decode_block_status_ext(payload) : decode_block_status(payload);
  if (!view) {
    core_.violation(view.error().to_string(), view.error().clause);
    return;
  }
  const auto& req = command_->request;
  const MetaContext* context = core_.session.find_context(view->context_id());
  if (!context) {
    core_.violation("sent block status for context id " + std::to_string(view->context_id()) +
                        ", which was not negotiated",
                    "S-BS-001");
    return;
  }
  auto& answered = command_->contexts_answered;
  if (std::find(answered.begin(), answered.end(), view->context_id()) != answered.end()) {
    core_.violation("sent two status chunks for context " + context->name + " in one reply",
                    "S-BS-001");
    return;
  }
  answered.push_back(view->context_id());

  extents_.clear();
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < view->size(); ++i) {
    const BlockDescriptor d = (*view)[i];
    // S-BS-044: only the last extent may reach past the request.
    if (i > 0 && sum >= req.length) {
      core_.violation("block status for " + context->name + " continues after its first " +
                          std::to_string(i) + " extents already cover the request length " +
                          std::to_string(req.length),
                      "S-BS-044");
      return;
    }
    // X-S-037: base: contexts only ever use 32 bits of status.
    if (wide && (d.status >> 32) != 0 && context->name.rfind("base:", 0) == 0) {
      core_.violation("extent status " + std::to_string(d.status) + " for " + context->name +
                          " uses the upper 32 bits",
                      "X-S-037");
      return;
    }
    // Saturating, so 64-bit extents cannot wrap the sum and hide S-BS-044.
    sum = d.length > std::numeric_limits<std::uint64_t>::max() - sum
              ? std::numeric_limits<std::uint64_t>::max()
              : sum + d.length;
    extents_.push_back(d);
  }
  if ((req.flags & NBD_CMD_FLAG_REQ_ONE) &&
      (view->size() != 1 || extents_[0].length > req.length)) {
    // S-BS-043: REQ_ONE means one extent no longer than the request.
    core_.violation("answered a NBD_CMD_FLAG_REQ_ONE request with " + std::to_string(view->size()) +
                        " extents of total length " + std::to_string(sum),
                    "S-BS-043");
    return;
  }
  if (auto* l = req.listener) {
    int error = command_->errnum;
    l->on_extents(*context, req.offset, extents_, error);
    if (error != 0) command_->record_error(error, "the block status callback failed");
  }
  end_chunk();
}

// ---- error chunks ----

void ReplyReader::on_error_chunk(Bytes payload) {
  auto e = decode_error_chunk(chunk_.type, payload);
  if (!e) {
    core_.violation(e.error().to_string(), e.error().clause);
    return;
  }
  const auto& req = command_->request;
  const int err = errno_from_nbd_error(e->error);
  std::string text = server_error_text(e->error, e->message);
  if (e->offset) {
    if (!error_offset_allowed(req.type)) {
      core_.violation("sent NBD_REPLY_TYPE_ERROR_OFFSET in reply to " + describe_command(req.type),
                      "S-SR-036");
      return;
    }
    if (*e->offset < req.offset || *e->offset - req.offset >= req.length) {
      core_.violation("error offset " + std::to_string(*e->offset) + " lies outside the request " +
                          std::to_string(req.offset) + "+" + std::to_string(req.length),
                      "S-SR-032");
      return;
    }
    text += " (at offset " + std::to_string(*e->offset) + ")";
    if (req.type == NBD_CMD_READ && req.listener) {
      int error = err;
      req.listener->on_read_chunk({}, *e->offset, ReadChunk::Error, error);
    }
  }
  // C-SR-008 / C-SR-009: an error chunk fails the whole command.
  command_->record_error(err, std::move(text));
  note_server_error(e->error);
  end_chunk();
}

// ---- completion ----

void ReplyReader::end_chunk() {
  if (core_.phase != Phase::Ready) return;
  state_ = State::AwaitMagic;
  if (chunk_.flags & NBD_REPLY_FLAG_DONE) finish_command();
}

void ReplyReader::finish_command() {
  Command& c = *command_;
  command_ = nullptr;
  if (c.errnum == 0) {
    const auto& req = c.request;
    if (req.type == NBD_CMD_READ && c.coverage.covered() != req.length) {
      // S-SR-045 (proto.md "NBD_CMD_READ"): success needs every byte covered.
      core_.violation("declared NBD_CMD_READ of " + std::to_string(req.length) +
                          " bytes done after sending only " + std::to_string(c.coverage.covered()),
                      "S-SR-045");
      return;
    }
    if (req.type == NBD_CMD_BLOCK_STATUS &&
        c.contexts_answered.size() != core_.session.meta_contexts.size()) {
      core_.violation("answered NBD_CMD_BLOCK_STATUS for " +
                          std::to_string(c.contexts_answered.size()) + " of the " +
                          std::to_string(core_.session.meta_contexts.size()) +
                          " negotiated contexts",
                      "S-BS-001");
      return;
    }
  }
  core_.complete(c);
}

void ReplyReader::note_server_error(std::uint32_t nbd_error) {
  if (nbd_error == NBD_ESHUTDOWN && !core_.disconnect_requested) {
    core_.debug("server is shutting down: disconnecting");
    core_.disconnect_requested = true;
  }
}

}  // namespace nbdref::engine
