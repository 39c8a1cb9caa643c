#include "checks/transmission_support.hpp"

#include <algorithm>
#include <map>

#include "probe/printable.hpp"
#include "probe/probe_error.hpp"
#include "wire/bytes.hpp"
#include "wire/constants.hpp"
#include "wire/limits.hpp"

namespace nbdref::conform {
namespace {

using namespace wire;

std::string range(std::uint64_t offset, std::uint64_t length) {
  return "[" + std::to_string(offset) + ", " + std::to_string(offset + length) + ")";
}

std::string with_clause(const DecodeError& e, const char* fallback) {
  return e.to_string() + (e.clause ? "" : std::string(" [") + fallback + "]");
}

// S-SR-036 (proto.md "Structured reply types": NBD_REPLY_TYPE_ERROR_OFFSET).
bool allows_error_offset(std::uint16_t command) {
  switch (command) {
    case NBD_CMD_READ:
    case NBD_CMD_WRITE:
    case NBD_CMD_TRIM:
    case NBD_CMD_CACHE:
    case NBD_CMD_WRITE_ZEROES:
    case NBD_CMD_BLOCK_STATUS:
      return true;
    default:
      return false;
  }
}

OpenExport finish_go(Probe probe, CheckContext& ctx) {
  const OptionReplies go = probe.request_info(NBD_OPT_GO, ctx.export_name());
  if (go.back().type != NBD_REP_ACK) {
    throw CheckAbort{Status::Error, "cannot open the export: " + go.back().describe()};
  }
  const auto info = find_export_info(decode_infos(go));
  if (!info) {
    throw ProbeError(ProbeError::Kind::Violation,
                     "NBD_OPT_GO succeeded without an NBD_INFO_EXPORT reply [S-OPT-014]",
                     "S-OPT-014");
  }
  return OpenExport{std::move(probe), info->export_size, info->transmission_flags};
}

}  // namespace

std::vector<std::uint8_t> test_pattern(std::size_t length, std::size_t seed) {
  std::vector<std::uint8_t> out(length);
  for (std::size_t i = 0; i < length; ++i) {
    out[i] = static_cast<std::uint8_t>((i * 13 + seed * 101 + (i >> 8)) ^ 0x5c);
  }
  return out;
}

bool all_zero(std::span<const std::uint8_t> bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b == 0; });
}

TransmissionReply round_trip(Probe& probe, std::uint16_t type, std::uint16_t flags,
                             std::uint64_t offset, std::uint64_t length,
                             std::span<const std::uint8_t> payload) {
  return probe.read_reply(probe.send_request(type, flags, offset, length, payload));
}

TransmissionReply write_data(Probe& probe, std::uint64_t offset,
                             const std::vector<std::uint8_t>& data, std::uint16_t flags) {
  return round_trip(probe, NBD_CMD_WRITE, flags, offset, data.size(), data);
}

std::uint64_t payload_limit(CheckContext& ctx) {
  // The maximum as the server states it, read from the raw item: whether the
  // sizes are consistent is sz.block-sizes-valid's to judge. No request can
  // be shorter than the smallest preferred block size (S-SZ-011).
  Probe probe = ctx.connect_newstyle();
  const OptionReplies info =
      probe.request_info(NBD_OPT_INFO, ctx.export_name(), {NBD_INFO_BLOCK_SIZE});
  for (const OptionReply& r : info) {
    if (r.type != NBD_REP_INFO || r.payload.size() != 14 ||
        load_be16(r.payload.data()) != NBD_INFO_BLOCK_SIZE) {
      continue;
    }
    return std::max<std::uint64_t>(load_be32(r.payload.data() + 10), 512);
  }
  return DEFAULT_MAX_PAYLOAD;
}

TransmissionReply write_in_pieces(Probe& probe, std::uint64_t offset,
                                  const std::vector<std::uint8_t>& data, std::uint64_t limit) {
  TransmissionReply reply;
  for (std::uint64_t done = 0; done < data.size();) {
    const std::uint64_t n = std::min<std::uint64_t>(limit, data.size() - done);
    const auto first = data.begin() + static_cast<std::ptrdiff_t>(done);
    reply = write_data(probe, offset + done,
                       std::vector<std::uint8_t>(first, first + static_cast<std::ptrdiff_t>(n)));
    if (reply.error() != 0) return reply;
    done += n;
  }
  return reply;
}

TransmissionReply read_in_pieces(Probe& probe, std::uint64_t offset, std::uint64_t length,
                                 std::uint64_t limit) {
  TransmissionReply all;
  for (std::uint64_t done = 0; done < length;) {
    const std::uint64_t n = std::min(limit, length - done);
    TransmissionReply piece = round_trip(probe, NBD_CMD_READ, 0, offset + done, n);
    if (piece.error() != 0) return piece;
    all.data.insert(all.data.end(), piece.data.begin(), piece.data.end());
    done += n;
  }
  return all;
}

void require_writable(const OpenExport& e) {
  if (e.flags & NBD_FLAG_READ_ONLY)
    throw CheckAbort{Status::NotApplicable, "the export is read-only"};
}

void require_flag(const OpenExport& e, std::uint16_t flag, const char* name) {
  if (!(e.flags & flag)) {
    throw CheckAbort{Status::NotApplicable, std::string("the export does not advertise ") + name};
  }
}

void require_success(const TransmissionReply& reply, const std::string& what) {
  if (reply.error() != 0) {
    throw CheckAbort{Status::Error,
                     "the check cannot go on: " + what + " failed (" + reply.describe() + ")"};
  }
}

void require_valid_reply(const RequestHeader& request, const TransmissionReply& reply,
                         const Probe& probe) {
  if (auto problem = reply_rule_problem(request, reply, probe)) {
    throw CheckAbort{Status::Fail, *problem,
                     "every reply follows the rules of structured or extended replies (proto.md "
                     "\"Structured reply chunk message\", \"Structured reply types\"), whatever "
                     "the check looks at; the clause broken is named in brackets"};
  }
}

OpenExport open_extended_export(CheckContext& ctx, const std::vector<std::string>& meta_contexts) {
  if (meta_contexts.empty()) {
    Probe probe = ctx.connect_newstyle();
    const OptionReplies eh = probe.request_option(NBD_OPT_EXTENDED_HEADERS);
    if (eh.back().type != NBD_REP_ACK) {
      throw CheckAbort{Status::NotApplicable,
                       "the server does not offer extended headers (" + eh.back().describe() + ")"};
    }
    return finish_go(std::move(probe), ctx);
  }
  return open_context_export(ctx, meta_contexts, true).open;
}

ContextExport open_context_export(CheckContext& ctx, const std::vector<std::string>& queries,
                                  bool extended) {
  Probe probe = ctx.connect_newstyle();
  const std::uint32_t option = extended ? NBD_OPT_EXTENDED_HEADERS : NBD_OPT_STRUCTURED_REPLY;
  const OptionReplies ack = probe.request_option(option);
  if (ack.back().type != NBD_REP_ACK) {
    throw CheckAbort{Status::NotApplicable,
                     std::string("the server does not offer ") +
                         (extended ? "extended headers" : "structured replies") + " (" +
                         ack.back().describe() + ")"};
  }
  const OptionReplies set =
      probe.request_meta_context(NBD_OPT_SET_META_CONTEXT, ctx.export_name(), queries);
  std::vector<std::pair<std::uint32_t, std::string>> contexts;
  for (const OptionReply& r : set) {
    if (r.type != NBD_REP_META_CONTEXT) continue;
    // The names are taken as they come (meta.context-names judges them);
    // the id is what status replies are matched by.
    if (r.payload.size() < 4) {
      throw ProbeError(ProbeError::Kind::Violation,
                       "an NBD_REP_META_CONTEXT reply to NBD_OPT_SET_META_CONTEXT of " +
                           std::to_string(r.payload.size()) +
                           " bytes has no room for its context id [S-BS-037]",
                       "S-BS-037");
    }
    const std::uint32_t new_id = load_be32(r.payload.data());
    std::string new_name(as_string_view(std::span(r.payload).subspan(4)));
    // S-BS-037 (proto.md "NBD_OPT_SET_META_CONTEXT"): one reply per
    // selected context, each id unique.
    for (const auto& [id, name] : contexts) {
      if (id != new_id && name != new_name) continue;
      throw CheckAbort{
          Status::Fail,
          "NBD_OPT_SET_META_CONTEXT answered NBD_REP_META_CONTEXT " + quoted(name) + " with id " +
              std::to_string(id) + ", then " + quoted(new_name) + " with id " +
              std::to_string(new_id) + " [S-BS-037]",
          "NBD_OPT_SET_META_CONTEXT sends one NBD_REP_META_CONTEXT per selected context, with ids "
          "unique within the reply [S-BS-037]: only then can status replies be judged"};
    }
    contexts.emplace_back(new_id, std::move(new_name));
  }
  if (set.back().type != NBD_REP_ACK || contexts.empty()) {
    throw CheckAbort{Status::NotApplicable,
                     "the server selected no metadata context (" + set.back().describe() + ")"};
  }
  return ContextExport{finish_go(std::move(probe), ctx), std::move(contexts)};
}

std::optional<InfoBlockSize> advertised_block_size(CheckContext& ctx) {
  Probe probe = ctx.connect_newstyle();
  const OptionReplies info =
      probe.request_info(NBD_OPT_INFO, ctx.export_name(), {NBD_INFO_BLOCK_SIZE});
  for (const InfoReply& i : decode_infos(info)) {
    if (const auto* b = std::get_if<InfoBlockSize>(&i)) return *b;
  }
  return std::nullopt;
}

std::optional<std::string> reply_rule_problem(const RequestHeader& request,
                                              const TransmissionReply& reply, bool structured,
                                              bool extended) {
  const std::string command = describe_command(request.type);
  if (reply.is_simple()) {
    // S-SR-002, S-TX-001: without structured replies every reply is simple.
    if (!structured && !extended) return std::nullopt;
    if (extended) {
      return "a simple reply to " + command +
             " although extended headers were negotiated [X-S-004]";
    }
    if (request.type == NBD_CMD_READ) {
      return "a simple reply to NBD_CMD_READ although structured replies were negotiated "
             "[S-SR-004]";
    }
    return std::nullopt;
  }
  const std::uint64_t end = request.offset + request.length;
  // Content and error-offset ranges seen so far, by start offset.
  std::map<std::uint64_t, std::uint64_t> content;
  std::vector<std::uint64_t> error_offsets;
  bool error_seen = false;
  for (std::size_t i = 0; i < reply.chunks.size(); ++i) {
    const ReplyChunk& chunk = reply.chunks[i];
    const ChunkHeader& h = chunk.header;
    const std::string name = "chunk " + std::to_string(i + 1) + " (" + describe_reply_type(h.type) +
                             ") of the reply to " + command;
    const bool last = i + 1 == reply.chunks.size();
    if (extended && chunk.kind != ReplyKind::Extended) {
      return name +
             " is a structured chunk although extended headers were negotiated [X-S-005, "
             "X-B-001]";
    }
    if (!extended && chunk.kind == ReplyKind::Extended) {
      return name +
             " is an extended chunk although extended headers were not negotiated "
             "[X-B-001]";
    }
    if (extended && h.offset != request.offset) {
      return name + " carries offset " + std::to_string(h.offset) + ", the request's is " +
             std::to_string(request.offset) + " [X-S-006]";
    }
    if (h.flags & ~NBD_REPLY_FLAG_DONE) {
      return name + " has reply flags " + std::to_string(h.flags) + " beyond NBD_REPLY_FLAG_DONE " +
             "[S-SR-016]";
    }
    const Bytes payload(chunk.payload);
    switch (h.type) {
      case NBD_REPLY_TYPE_NONE:
        if (h.length != 0) return name + " has length " + std::to_string(h.length) + " [S-SR-018]";
        if (!last || !(h.flags & NBD_REPLY_FLAG_DONE)) {
          return name + " is not the final chunk flagged NBD_REPLY_FLAG_DONE [S-SR-015, S-SR-019]";
        }
        break;
      case NBD_REPLY_TYPE_OFFSET_DATA:
      case NBD_REPLY_TYPE_OFFSET_HOLE: {
        if (request.type != NBD_CMD_READ)
          return name + " answers a command other than READ [S-SR-026]";
        std::uint64_t at = 0;
        std::uint64_t length = 0;
        if (h.type == NBD_REPLY_TYPE_OFFSET_DATA) {
          auto d = decode_offset_data(payload);
          if (!d) return name + ": " + with_clause(d.error(), "S-SR-020");
          at = d->offset;
          length = d->data.size();
        } else {
          auto hole = decode_offset_hole(payload);
          if (!hole) return name + ": " + with_clause(hole.error(), "S-SR-024");
          at = hole->offset;
          length = hole->length;
        }
        if (at < request.offset || at > end || length > end - at) {
          return name + " covers " + range(at, length) + ", outside the request's " +
                 range(request.offset, request.length) + " [S-SR-021]";
        }
        const auto next = content.lower_bound(at);
        const bool overlaps_next = next != content.end() && next->first < at + length;
        const bool overlaps_prev =
            next != content.begin() && std::prev(next)->first + std::prev(next)->second > at;
        if (overlaps_next || overlaps_prev) {
          return name + " covers " + range(at, length) +
                 ", overlapping an earlier content chunk [S-SR-022]";
        }
        for (std::uint64_t e : error_offsets) {
          if (e >= at && e < at + length) {
            return name + " covers " + range(at, length) + ", which holds the offset " +
                   std::to_string(e) + " of an earlier error chunk [S-SR-022, S-SR-051]";
          }
        }
        content.emplace(at, length);
        break;
      }
      case NBD_REPLY_TYPE_BLOCK_STATUS:
      case NBD_REPLY_TYPE_BLOCK_STATUS_EXT: {
        if (request.type != NBD_CMD_BLOCK_STATUS) {
          return name + " answers a command other than BLOCK_STATUS [S-SR-026]";
        }
        const bool wide = h.type == NBD_REPLY_TYPE_BLOCK_STATUS_EXT;
        if (wide && !extended) {
          return name + " is used although extended headers were not negotiated [X-S-032]";
        }
        if (!wide && extended) {
          return name + " is used although extended headers were negotiated [X-S-031, X-S-033]";
        }
        auto view = wide ? decode_block_status_ext(payload) : decode_block_status(payload);
        if (!view) return name + ": " + with_clause(view.error(), wide ? "X-S-034" : "S-BS-041");
        break;
      }
      default: {
        if (!is_error_chunk(h.type)) {
          return name + " has a type not valid as a reply to " + command + " [S-SR-026]";
        }
        auto e = decode_error_chunk(h.type, payload);
        if (!e) return name + ": " + with_clause(e.error(), "S-SR-027");
        if (e->message.size() > MAX_STRING_LENGTH) {
          return name + " has a message of " + std::to_string(e->message.size()) +
                 " bytes [S-SR-030]";
        }
        error_seen = true;
        if (e->offset) {
          if (!allows_error_offset(request.type)) {
            return name + " is not valid as a reply to " + command + " [S-SR-036]";
          }
          if (*e->offset < request.offset || *e->offset >= end) {
            return name + " names offset " + std::to_string(*e->offset) +
                   ", outside the request's " + range(request.offset, request.length) +
                   " [S-SR-032]";
          }
          error_offsets.push_back(*e->offset);
        }
        break;
      }
    }
  }
  // S-SR-045: a successful READ is covered without gaps.
  if (request.type == NBD_CMD_READ && !error_seen) {
    std::uint64_t covered = request.offset;
    for (const auto& [at, length] : content) {
      if (at != covered) break;
      covered = at + length;
    }
    if (covered != end) {
      return "the successful reply to NBD_CMD_READ " + range(request.offset, request.length) +
             " leaves bytes from " + std::to_string(covered) + " uncovered (" +
             describe_chunks(reply) + ") [S-SR-045]";
    }
  }
  return std::nullopt;
}

std::vector<std::uint8_t> read_content(const RequestHeader& request,
                                       const TransmissionReply& reply) {
  if (reply.is_simple()) return reply.data;
  std::vector<std::uint8_t> out(request.length, 0);
  for (const ReplyChunk& chunk : reply.chunks) {
    if (chunk.header.type != NBD_REPLY_TYPE_OFFSET_DATA) continue;
    const auto d = decode_offset_data(Bytes(chunk.payload));
    if (!d) continue;
    std::copy(d->data.begin(), d->data.end(), out.begin() + (d->offset - request.offset));
  }
  return out;
}

std::vector<BlockStatusView> status_chunks(const TransmissionReply& reply) {
  std::vector<BlockStatusView> out;
  for (const ReplyChunk& chunk : reply.chunks) {
    const Bytes payload(chunk.payload);
    if (chunk.header.type == NBD_REPLY_TYPE_BLOCK_STATUS) {
      if (auto v = decode_block_status(payload)) out.push_back(*v);
    } else if (chunk.header.type == NBD_REPLY_TYPE_BLOCK_STATUS_EXT) {
      if (auto v = decode_block_status_ext(payload)) out.push_back(*v);
    }
  }
  return out;
}

std::string describe_chunks(const TransmissionReply& reply) {
  if (reply.is_simple()) return reply.describe();
  std::string out;
  for (const ReplyChunk& chunk : reply.chunks) {
    if (!out.empty()) out += ", ";
    out += describe_reply_type(chunk.header.type);
    const Bytes payload(chunk.payload);
    if (chunk.header.type == NBD_REPLY_TYPE_OFFSET_DATA) {
      if (auto d = decode_offset_data(payload)) out += " " + range(d->offset, d->data.size());
    } else if (chunk.header.type == NBD_REPLY_TYPE_OFFSET_HOLE) {
      if (auto h = decode_offset_hole(payload)) out += " " + range(h->offset, h->length);
    } else if (is_error_chunk(chunk.header.type)) {
      if (auto e = decode_error_chunk(chunk.header.type, payload)) {
        out += " " + describe_nbd_error(e->error);
      }
    }
  }
  return out;
}

}  // namespace nbdref::conform
