#include "engine/command_issuer.hpp"

#include <cerrno>
#include <cstring>
#include <limits>

#include "wire/limits.hpp"
#include "wire/request.hpp"

namespace nbdref::engine {
namespace {

using namespace wire;

// libnbd refuses reads and writes above 64 MiB with ERANGE; so do we.
constexpr std::uint64_t MAX_DATA_REQUEST = 64 * 1024 * 1024;
// Write payloads up to this size are copied next to their header; larger
// ones are sent straight from the caller's buffer.
constexpr std::uint64_t WRITE_COPY_LIMIT = 16 * 1024;
// The flags a caller may pass (libnbd's LIBNBD_CMD_FLAG_MASK).
constexpr std::uint32_t CALLER_FLAGS = NBD_CMD_FLAG_FUA | NBD_CMD_FLAG_NO_HOLE | NBD_CMD_FLAG_DF |
                                       NBD_CMD_FLAG_REQ_ONE | NBD_CMD_FLAG_FAST_ZERO;

// Flags that mean something for each command (proto.md "Command flags").
std::uint32_t flags_valid_for(std::uint16_t type) {
  switch (type) {
    case NBD_CMD_READ:
      return NBD_CMD_FLAG_DF;
    case NBD_CMD_WRITE:
      return NBD_CMD_FLAG_FUA;
    case NBD_CMD_TRIM:
      return NBD_CMD_FLAG_FUA;
    case NBD_CMD_WRITE_ZEROES:
      return NBD_CMD_FLAG_FUA | NBD_CMD_FLAG_NO_HOLE | NBD_CMD_FLAG_FAST_ZERO;
    case NBD_CMD_BLOCK_STATUS:
      return NBD_CMD_FLAG_REQ_ONE;
    default:
      return 0;  // FLUSH, CACHE
  }
}

bool writes(std::uint16_t type) {
  return type == NBD_CMD_WRITE || type == NBD_CMD_TRIM || type == NBD_CMD_WRITE_ZEROES;
}

}  // namespace

Result<void> CommandIssuer::check(const CommandRequest& r) const {
  const auto& s = core_.session;
  const auto& info = s.export_info;
  const std::uint32_t strict = core_.config.strict;
  // Named only when refusing: a request that passes builds no strings.
  const auto name = [&r] { return describe_command(r.type); };

  if (core_.phase != Phase::Ready) {
    std::string why = std::string("the connection is ") + phase_name(core_.phase);
    if (core_.error) why += " (" + core_.error->message + ")";
    return failure(ENOTCONN, "cannot issue " + name() + ": " + why);
  }
  if (core_.disconnect_requested) {
    return failure(ESHUTDOWN, "cannot issue " + name() + ": a disconnect was requested");
  }
  // The protocol has 16 bits of flags whatever the mode.
  if (r.flags > 0xffff || (r.flags & NBD_CMD_FLAG_PAYLOAD_LEN)) {
    return failure(EINVAL, name() + ": invalid flags " + std::to_string(r.flags));
  }
  if (strict & STRICT_FLAGS) {
    // C-TX-015, C-TX-016 (proto.md "Command flags").
    if (r.flags & ~CALLER_FLAGS) {
      return failure(EINVAL, name() + ": unknown flags " +
                                 describe_command_flags(static_cast<std::uint16_t>(r.flags)));
    }
    const std::uint32_t stray = r.flags & ~flags_valid_for(r.type);
    if (stray) {
      return failure(EINVAL, name() + " does not take " +
                                 describe_command_flags(static_cast<std::uint16_t>(stray)));
    }
  }
  if (strict & STRICT_COMMANDS) {
    if (writes(r.type) && info.has(NBD_FLAG_READ_ONLY)) {
      return failure(EPERM, name() + ": the export is read-only");
    }
    // C-TX-010 (proto.md "Transmission flags"): only features the server exposed.
    struct Needs {
      bool applies;
      TransmissionFlag flag;
      const char* what;
      const char* clause;
    };
    const Needs needs[] = {
        {r.type == NBD_CMD_FLUSH, NBD_FLAG_SEND_FLUSH, "flush", "C-TX-025"},
        {r.type == NBD_CMD_TRIM, NBD_FLAG_SEND_TRIM, "trim", "C-TX-029"},
        {r.type == NBD_CMD_WRITE_ZEROES, NBD_FLAG_SEND_WRITE_ZEROES, "write zeroes", "C-TX-031"},
        {r.type == NBD_CMD_CACHE, NBD_FLAG_SEND_CACHE, "cache", "C-TX-010"},
        {(r.flags & NBD_CMD_FLAG_FUA) != 0, NBD_FLAG_SEND_FUA, "FUA", "C-TX-010"},
        {(r.flags & NBD_CMD_FLAG_DF) != 0, NBD_FLAG_SEND_DF, "the DF flag", "C-TX-011"},
        {(r.flags & NBD_CMD_FLAG_FAST_ZERO) != 0, NBD_FLAG_SEND_FAST_ZERO, "fast zero", "C-TX-013"},
    };
    for (const auto& n : needs) {
      if (n.applies && !info.has(n.flag)) {
        return failure(EINVAL,
                       name() + ": the server does not support " + n.what + " [" + n.clause + "]");
      }
    }
  }
  if (r.type == NBD_CMD_BLOCK_STATUS && s.meta_contexts.empty()) {
    // C-BS-002 (proto.md "Metadata querying").
    return failure(ENOTSUP,
                   "NBD_CMD_BLOCK_STATUS: no metadata context was negotiated (add one "
                   "before connecting, and the server must support it)");
  }
  const bool ranged = r.type != NBD_CMD_FLUSH && r.type != NBD_CMD_DISC;
  if (!ranged) return {};

  if ((r.type == NBD_CMD_READ || r.type == NBD_CMD_WRITE)) {
    if (r.length > MAX_DATA_REQUEST) {
      return failure(ERANGE, name() + ": " + std::to_string(r.length) +
                                 " bytes is more than the 64 MiB a single request may carry");
    }
    // C-SZ-008 (proto.md "Size constraints"): client-controlled payloads
    // stay within the maximum payload, 32 MiB when none was advertised (C-SZ-005).
    const bool payload_ours =
        r.type == NBD_CMD_WRITE || (!s.structured_replies && !s.extended_headers);
    const std::uint64_t max_payload =
        info.block_sizes ? info.block_sizes->maximum : DEFAULT_MAX_PAYLOAD;
    if (payload_ours && r.length > max_payload) {
      return failure(ERANGE, name() + ": " + std::to_string(r.length) +
                                 " bytes exceeds the maximum payload of " +
                                 std::to_string(max_payload) + " [C-SZ-008]");
    }
  }
  if (!s.extended_headers && r.length > std::numeric_limits<std::uint32_t>::max()) {
    return failure(ERANGE, name() + ": length " + std::to_string(r.length) +
                               " needs extended headers, which were not negotiated");
  }
  if (s.extended_headers && r.type == NBD_CMD_WRITE && r.length == 0) {
    // X-C-016 (proto-extended-headers.md "Command flags"): a write must carry
    // NBD_CMD_FLAG_PAYLOAD_LEN, and that flag announces a nonzero payload, so
    // an empty write has no valid form once extended headers are in use.
    return failure(EINVAL,
                   name() + ": an empty write cannot be sent with extended headers [X-C-016]");
  }
  if ((strict & STRICT_ZERO_SIZE) && r.length == 0) {
    // C-TX-020, C-TX-022, C-TX-027, C-TX-030, C-BS-013.
    return failure(EINVAL, name() + ": zero-length request");
  }
  if ((strict & STRICT_BOUNDS) && (r.offset > info.size || r.length > info.size - r.offset)) {
    // C-SZ-012 (proto.md "Size constraints").
    return failure(EINVAL, name() + ": range " + std::to_string(r.offset) + "+" +
                               std::to_string(r.length) + " is beyond the export size " +
                               std::to_string(info.size) + " [C-SZ-012]");
  }
  if ((strict & STRICT_ALIGN) && info.block_sizes && info.block_sizes->minimum > 1) {
    // C-SZ-010: offset and length are multiples of the minimum block size.
    const std::uint32_t min = info.block_sizes->minimum;
    if (r.offset % min != 0 || r.length % min != 0) {
      return failure(EINVAL, name() + ": offset " + std::to_string(r.offset) + " or length " +
                                 std::to_string(r.length) +
                                 " is not a multiple of the minimum block size " +
                                 std::to_string(min) + " [C-SZ-010]");
    }
  }
  return {};
}

Result<std::uint64_t> CommandIssuer::submit(const CommandRequest& request) {
  // Zeroed before any check, so even a refused read never exposes stale
  // memory (libnbd's nbd_set_pread_initialize).
  if (request.type == NBD_CMD_READ && core_.config.pread_initialize && request.read_buffer &&
      request.length > 0 && request.length <= MAX_DATA_REQUEST) {
    std::memset(request.read_buffer, 0, request.length);
  }
  if (auto ok = check(request); !ok) return tl::unexpected(ok.error());
  Command& c = core_.commands.add(core_.next_cookie++, request);
  c.output_start = core_.output.enqueued();
  encode(c);
  c.output_end = core_.output.enqueued();
  if (core_.debugging()) {
    core_.debug("issued " + describe_command(request.type) + " cookie " + std::to_string(c.cookie) +
                " offset " + std::to_string(request.offset) + " length " +
                std::to_string(request.length));
  }
  return c.cookie;
}

void CommandIssuer::encode(const Command& c) {
  const auto& r = c.request;
  ++core_.stats.chunks_sent;
  RequestHeader h{static_cast<std::uint16_t>(r.flags), r.type, c.cookie, r.offset, r.length};
  const bool flush_like = r.type == NBD_CMD_FLUSH;
  if (flush_like) h.offset = h.length = 0;  // C-TX-026
  if (core_.session.extended_headers) {
    // X-C-002 / X-C-013: WRITE carries its payload length with PAYLOAD_LEN.
    if (r.type == NBD_CMD_WRITE) h.flags |= NBD_CMD_FLAG_PAYLOAD_LEN;
    encode_extended_request(h, core_.output.append(EXTENDED_REQUEST_SIZE));
  } else {
    encode_compact_request(h, core_.output.append(COMPACT_REQUEST_SIZE));
  }
  if (r.type == NBD_CMD_WRITE && r.length > 0) {
    // C-TX-021: exactly `length` bytes follow the header.
    const Bytes data(r.write_data, static_cast<std::size_t>(r.length));
    if (r.length <= WRITE_COPY_LIMIT) {
      core_.output.append_copy(data);
    } else {
      core_.output.append_reference(data);
    }
  }
}

Result<void> CommandIssuer::disconnect(bool abandon_pending) {
  if (core_.phase != Phase::Ready) {
    return failure(ENOTCONN,
                   std::string("cannot disconnect: the connection is ") + phase_name(core_.phase));
  }
  if (core_.disconnect_requested) return {};
  core_.disconnect_requested = true;
  if (abandon_pending) {
    // Requests whose first byte has not left yet can vanish without a trace.
    std::uint64_t cut = core_.output.enqueued();
    std::vector<Command*> abandoned;
    for (Command* c : core_.commands.all()) {
      if (c->output_start >= core_.output.sent()) {
        cut = std::min(cut, c->output_start);
        abandoned.push_back(c);
      }
    }
    core_.output.truncate(cut);
    for (Command* c : abandoned) {
      c->record_error(ECANCELED, "abandoned by disconnect before it was sent");
      core_.complete(*c);
    }
  }
  core_.maybe_send_disconnect();
  return {};
}

}  // namespace nbdref::engine
