#include "server/command_handler.hpp"

#include <algorithm>

#include "wire/constants.hpp"
#include "wire/limits.hpp"

namespace nbdref::mock {
namespace {

using namespace wire;
using script::ServeFault;

// Command types this server knows.
bool known_command(std::uint16_t type) {
  switch (type) {
    case NBD_CMD_READ:
    case NBD_CMD_WRITE:
    case NBD_CMD_FLUSH:
    case NBD_CMD_TRIM:
    case NBD_CMD_CACHE:
    case NBD_CMD_WRITE_ZEROES:
    case NBD_CMD_BLOCK_STATUS:
      return true;
    default:
      return false;
  }
}

// Every command flag the protocol defines.
constexpr std::uint16_t KNOWN_COMMAND_FLAGS = NBD_CMD_FLAG_FUA | NBD_CMD_FLAG_NO_HOLE |
                                              NBD_CMD_FLAG_DF | NBD_CMD_FLAG_REQ_ONE |
                                              NBD_CMD_FLAG_FAST_ZERO | NBD_CMD_FLAG_PAYLOAD_LEN;

// base:allocation's status bits (proto.md "base:allocation metadata context").
constexpr std::uint32_t NBD_STATE_HOLE = 1u << 0;
constexpr std::uint32_t NBD_STATE_ZERO = 1u << 1;
// S-SR-056: DF reads of up to 64 KiB are always served in one chunk.
constexpr std::uint64_t DF_ALWAYS_SERVED = 64 * 1024;

bool writes(std::uint16_t type) {
  return type == NBD_CMD_WRITE || type == NBD_CMD_TRIM || type == NBD_CMD_WRITE_ZEROES;
}

std::uint32_t allocation_status(ExtentState s) {
  switch (s) {
    case ExtentState::Hole:
      return NBD_STATE_HOLE | NBD_STATE_ZERO;
    case ExtentState::Zero:
      return NBD_STATE_ZERO;
    case ExtentState::Data:
      return 0;
  }
  return 0;
}

std::string range_text(const RequestHeader& h) {
  return describe_command(h.type) + " at " + std::to_string(h.offset) + "+" +
         std::to_string(h.length);
}

}  // namespace

CommandHandler::CommandHandler(TransmissionSetup setup) : setup_(std::move(setup)) {}

std::uint64_t CommandHandler::payload_limit() const {
  return std::min<std::uint64_t>(setup_.exported.config.block_sizes().maximum, MAX_HELD_PAYLOAD);
}

tl::expected<PayloadPlan, std::string> CommandHandler::begin(const RequestHeader& h) {
  request_ = h;
  PayloadPlan plan;
  if (!known_command(h.type) && faulty(ServeFault::UnknownCommandDisconnects)) {
    return tl::unexpected("sent " + describe_command(h.type) + ", which this server does not know");
  }
  if (h.length == 0 && h.type != NBD_CMD_FLUSH && faulty(ServeFault::ZeroLengthDisconnects)) {
    return tl::unexpected("sent a zero-length " + describe_command(h.type));
  }
  if (h.length == 0 && h.type == NBD_CMD_CACHE && faulty(ServeFault::ZeroLengthCacheDisconnects)) {
    return tl::unexpected(std::string("sent a zero-length NBD_CMD_CACHE"));
  }
  if (h.type == NBD_CMD_WRITE && h.length > payload_limit() &&
      faulty(ServeFault::OversizedWriteDisconnects)) {
    return tl::unexpected("sent NBD_CMD_WRITE with " + std::to_string(h.length) +
                          " bytes, more than the maximum payload " +
                          std::to_string(payload_limit()));
  }
  if (setup_.extended_requests()) {
    if (h.flags & NBD_CMD_FLAG_PAYLOAD_LEN) {
      plan.length = h.length;
      // X-S-001: a payload beyond the maximum is a reason to hang up.
      if (plan.length > payload_limit()) {
        return tl::unexpected("sent " + describe_command(h.type) + " with a payload of " +
                              std::to_string(plan.length) + " bytes, more than the maximum " +
                              std::to_string(payload_limit()) + " [C-SZ-008, X-S-001]");
      }
    }
  } else if (h.type == NBD_CMD_WRITE) {
    plan.length = h.length;
    // S-SZ-016: up to 32 MiB is never treated as a denial of service, even
    // above the advertised maximum; beyond that the session ends (B-GEN-003).
    const std::uint64_t tolerated = std::max(payload_limit(), DEFAULT_MAX_PAYLOAD);
    if (plan.length > tolerated) {
      return tl::unexpected("sent NBD_CMD_WRITE with " + std::to_string(plan.length) +
                            " bytes, more than the " + std::to_string(tolerated) +
                            " this server accepts [C-SZ-008, B-GEN-003]");
    }
  }
  failure_ = check(h);
  plan.keep = !failure_ && plan.length > 0;
  return plan;
}

std::optional<CommandHandler::Failure> CommandHandler::check(const RequestHeader& h) const {
  const std::string name = describe_command(h.type);
  struct Feature {
    std::uint16_t type;
    std::uint16_t flag;
    const char* clause;
  };
  // C-TX-010: commands exposed by a transmission flag need it advertised.
  static constexpr Feature FEATURES[] = {
      {NBD_CMD_FLUSH, NBD_FLAG_SEND_FLUSH, "C-TX-025"},
      {NBD_CMD_TRIM, NBD_FLAG_SEND_TRIM, "C-TX-029"},
      {NBD_CMD_WRITE_ZEROES, NBD_FLAG_SEND_WRITE_ZEROES, "C-TX-031"},
      {NBD_CMD_CACHE, NBD_FLAG_SEND_CACHE, "C-TX-010"},
  };
  if (!known_command(h.type)) {
    // S-ERR-011: an unknown command fails; the connection stays usable.
    // S-ERR-015 broken by unknown-command-enosys: 38 is no NBD error value.
    // S-ERR-010 broken by unknown-command-enotsup.
    constexpr std::uint32_t HOST_ENOSYS = 38;
    const std::uint32_t error = faulty(ServeFault::UnknownCommandEnosys)    ? HOST_ENOSYS
                                : faulty(ServeFault::UnknownCommandEnotsup) ? NBD_ENOTSUP
                                                                            : NBD_EINVAL;
    return Failure{error, name + " is not a command this server knows"};
  }
  for (const auto& f : FEATURES) {
    if (h.type == f.type && !setup_.has(f.flag)) {
      return Failure{NBD_EINVAL, name + " was not advertised [" + f.clause + "]"};
    }
  }
  if (h.type == NBD_CMD_BLOCK_STATUS && !setup_.allocation_context) {
    // S-BS-003.
    return Failure{NBD_EINVAL,
                   "NBD_CMD_BLOCK_STATUS without a selected metadata context [C-BS-002]"};
  }
  if (auto f = check_flags(h)) return f;
  if (writes(h.type) && setup_.exported.config.read_only &&
      !faulty(ServeFault::ReadOnlyWritesAllowed)) {
    // S-TX-017, S-ERR-008, S-ERR-002.
    return Failure{faulty(ServeFault::ReadOnlyEinval) ? NBD_EINVAL : NBD_EPERM,
                   name + ": the export is read-only"};
  }
  if (h.type == NBD_CMD_WRITE_ZEROES && (h.flags & NBD_CMD_FLAG_FAST_ZERO) &&
      h.length > payload_limit() && faulty(ServeFault::FastZeroEoverflow)) {
    // S-TX-056 broken: refused for its length before anything else.
    return Failure{NBD_EOVERFLOW, range_text(h) + " is longer than the maximum payload"};
  }
  if (h.type == NBD_CMD_FLUSH) {
    if (h.offset != 0 || h.length != 0) {
      return Failure{NBD_EINVAL,
                     range_text(h) + ": NBD_CMD_FLUSH has offset and length 0 [C-TX-026]"};
    }
    return std::nullopt;
  }
  return check_range(h);
}

std::optional<CommandHandler::Failure> CommandHandler::check_flags(const RequestHeader& h) const {
  const std::string name = describe_command(h.type);
  const bool extended = setup_.extended_requests();
  if (h.flags & NBD_CMD_FLAG_PAYLOAD_LEN) {
    if (!extended) {
      return Failure{NBD_EINVAL,
                     name + " with NBD_CMD_FLAG_PAYLOAD_LEN in a compact request [X-C-001]"};
    }
    if (h.type != NBD_CMD_WRITE && !faulty(ServeFault::PayloadLenOnReadAccepted)) {
      // X-S-030, X-S-040: the payload was consumed and dropped.
      return Failure{NBD_EINVAL, name + " has no payload form on this server [X-S-030]"};
    }
  } else if (extended && h.type == NBD_CMD_WRITE) {
    return Failure{NBD_EINVAL, "NBD_CMD_WRITE without NBD_CMD_FLAG_PAYLOAD_LEN [X-C-002]"};
  }
  // S-TX-025: FUA goes with any command once advertised.
  std::uint16_t allowed = NBD_CMD_FLAG_PAYLOAD_LEN;
  if (setup_.has(NBD_FLAG_SEND_FUA) && (writes(h.type) || !faulty(ServeFault::FuaOnlyOnWrites))) {
    allowed |= NBD_CMD_FLAG_FUA;
  }
  switch (h.type) {
    case NBD_CMD_READ:
      if (setup_.has(NBD_FLAG_SEND_DF)) allowed |= NBD_CMD_FLAG_DF;
      break;
    case NBD_CMD_WRITE_ZEROES:
      // S-TX-027: NO_HOLE comes with write zeroes; S-TX-060: FAST_ZERO only if advertised.
      if (!faulty(ServeFault::NoHoleRefused)) allowed |= NBD_CMD_FLAG_NO_HOLE;
      if (setup_.has(NBD_FLAG_SEND_FAST_ZERO)) allowed |= NBD_CMD_FLAG_FAST_ZERO;
      break;
    case NBD_CMD_BLOCK_STATUS:
      allowed |= NBD_CMD_FLAG_REQ_ONE;
      break;
    default:
      break;
  }
  std::uint16_t stray = h.flags & ~allowed;
  if (faulty(ServeFault::UnknownCommandFlagsIgnored)) stray &= KNOWN_COMMAND_FLAGS;
  if (faulty(ServeFault::InapplicableFlagsIgnored)) stray &= ~KNOWN_COMMAND_FLAGS;
  // S-TX-049 broken by cache-flags-ignored.
  if (h.type == NBD_CMD_CACHE && faulty(ServeFault::CacheFlagsIgnored)) stray = 0;
  if (h.type == NBD_CMD_WRITE_ZEROES && (stray & NBD_CMD_FLAG_FAST_ZERO) &&
      faulty(ServeFault::FastZeroUnadvertisedEnotsup)) {
    // S-TX-060 (and S-TX-059) broken: NBD_ENOTSUP, although FAST_ZERO was not advertised.
    return Failure{NBD_ENOTSUP, name + ": fast zeroing is not supported"};
  }
  if (stray != 0) {
    // S-ERR-012, S-ERR-013, S-TX-049.
    return Failure{NBD_EINVAL, name + " does not take " + describe_command_flags(stray) +
                                   " on this export [C-TX-015]"};
  }
  return std::nullopt;
}

std::optional<CommandHandler::Failure> CommandHandler::check_range(const RequestHeader& h) const {
  const auto& config = setup_.exported.config;
  const auto sizes = config.block_sizes();
  if (sizes.minimum > 1 && (h.offset % sizes.minimum != 0 || h.length % sizes.minimum != 0) &&
      !faulty(ServeFault::UnalignedAccepted)) {
    // S-SZ-020, S-ERR-007.
    return Failure{NBD_EINVAL, range_text(h) + " is not aligned to the minimum block size " +
                                   std::to_string(sizes.minimum) + " [C-SZ-010]"};
  }
  if (h.offset > config.size || h.length > config.size - h.offset) {
    // S-ERR-003, S-ERR-001: writes past the end lack space; the rest are invalid
    // (S-ERR-005, S-ERR-006, S-BS-059). The faults break one of these each.
    if (h.type == NBD_CMD_TRIM && faulty(ServeFault::TrimPastEndSucceeds)) return std::nullopt;
    // S-TX-039, S-TX-062 broken by failed-writes-succeed: finish() writes nothing.
    if ((h.type == NBD_CMD_WRITE || h.type == NBD_CMD_WRITE_ZEROES) &&
        faulty(ServeFault::FailedWritesSucceed)) {
      return std::nullopt;
    }
    if (h.type == NBD_CMD_BLOCK_STATUS && h.offset < config.size &&
        faulty(ServeFault::BlockStatusPastEndClamped)) {
      return std::nullopt;
    }
    const bool write =
        (h.type == NBD_CMD_WRITE && !faulty(ServeFault::WritePastEndEinval)) ||
        (h.type == NBD_CMD_WRITE_ZEROES && !faulty(ServeFault::WriteZeroesPastEndEinval));
    const bool read_eio = h.type == NBD_CMD_READ && faulty(ServeFault::ReadPastEndEio);
    // S-ERR-009 broken by read-past-end-eoverflow.
    const bool read_eoverflow = h.type == NBD_CMD_READ && faulty(ServeFault::ReadPastEndEoverflow);
    return Failure{write            ? NBD_ENOSPC
                   : read_eio       ? NBD_EIO
                   : read_eoverflow ? NBD_EOVERFLOW
                                    : NBD_EINVAL,
                   range_text(h) + " reaches past the export size " + std::to_string(config.size) +
                       " [C-SZ-012]"};
  }
  const bool chunks = setup_.replies != ReplyStyle::Simple;
  switch (h.type) {
    case NBD_CMD_READ:
      if (!chunks && h.length > payload_limit()) {
        return Failure{NBD_EINVAL, range_text(h) + " exceeds the maximum payload " +
                                       std::to_string(payload_limit()) + " [C-SZ-008]"};
      }
      if ((h.flags & NBD_CMD_FLAG_DF) && h.length > std::max(payload_limit(), DF_ALWAYS_SERVED)) {
        // S-SR-054, S-SR-055: too long to send unfragmented; no content is sent.
        return Failure{NBD_EOVERFLOW, range_text(h) + " is too long to send in one chunk"};
      }
      if (h.length > std::max(payload_limit(), DEFAULT_MAX_PAYLOAD)) {
        // S-SR-044: refused up front rather than held in memory.
        return Failure{NBD_EOVERFLOW, range_text(h) + " is longer than this server serves at once"};
      }
      return std::nullopt;
    case NBD_CMD_WRITE:
      if (h.length > payload_limit()) {
        // S-SZ-016: consumed, then refused.
        return Failure{NBD_EINVAL, range_text(h) + " exceeds the maximum payload " +
                                       std::to_string(payload_limit()) + " [C-SZ-008]"};
      }
      return std::nullopt;
    case NBD_CMD_BLOCK_STATUS:
      if (h.length == 0) {
        // S-BS-048: an error, not a disconnect; no extent can be empty (S-BS-042).
        return Failure{NBD_EINVAL, "zero-length NBD_CMD_BLOCK_STATUS [C-BS-013]"};
      }
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

void CommandHandler::finish(Bytes payload, std::vector<std::uint8_t>& out) {
  ReplyWriter w(setup_.replies, out, setup_.fault);
  if (failure_) {
    w.error(request_, failure_->error, failure_->message);
    return;
  }
  RamDisk& disk = *setup_.exported.disk;
  const auto& h = request_;
  // Only failed-writes-succeed lets a write past the end through: it is
  // answered with success and does nothing.
  const bool past_end = h.offset > disk.size() || h.length > disk.size() - h.offset;
  if (past_end && (h.type == NBD_CMD_WRITE || h.type == NBD_CMD_WRITE_ZEROES)) {
    w.success(h);
    return;
  }
  switch (h.type) {
    case NBD_CMD_READ:
      read(w);
      return;
    case NBD_CMD_WRITE:
      if (!faulty(ServeFault::WritesDropped)) disk.write(h.offset, payload);
      break;
    case NBD_CMD_TRIM:
      if (faulty(ServeFault::TrimFails)) {
        w.error(h, NBD_EIO, "trimming failed");
        return;
      }
      // Clamped to the disk: only trim-past-end-succeeds lets such a trim through.
      if (h.offset < disk.size()) disk.trim(h.offset, std::min(h.length, disk.size() - h.offset));
      break;
    case NBD_CMD_WRITE_ZEROES:
      if (faulty(ServeFault::WriteZeroesEnotsup) && !(h.flags & NBD_CMD_FLAG_FAST_ZERO)) {
        w.error(h, NBD_ENOTSUP, "zeroing is not supported");
        return;
      }
      if (faulty(ServeFault::WriteZeroesIgnored)) break;
      if ((h.flags & NBD_CMD_FLAG_FAST_ZERO) && (h.flags & NBD_CMD_FLAG_NO_HOLE)) {
        // S-TX-028: filling allocated pages with zeroes is no faster than
        // writing them, so the fast request fails at once and changes
        // nothing (S-TX-057). Without NO_HOLE, releasing pages is fast.
        // S-TX-057 broken by fast-zero-enotsup-zeroes: the range is zeroed all the same.
        if (faulty(ServeFault::FastZeroEnotsupZeroes)) disk.zero(h.offset, h.length, true);
        w.error(h, NBD_ENOTSUP, "zeroing without holes is not faster than writing");
        return;
      }
      disk.zero(h.offset, h.length, (h.flags & NBD_CMD_FLAG_NO_HOLE) != 0);
      break;
    case NBD_CMD_BLOCK_STATUS:
      block_status(w);
      return;
    case NBD_CMD_CACHE:
      // Nothing to do, as for FLUSH below; S-TX-046 broken by cache-zeroes.
      if (faulty(ServeFault::CacheZeroes)) disk.zero(h.offset, h.length, false);
      break;
    default:
      // FLUSH and CACHE: RAM is as durable and as fast as it gets, and every
      // connection sees every write at once (S-TX-021).
      break;
  }
  w.success(h);
}

void CommandHandler::read(ReplyWriter& w) {
  const RamDisk& disk = *setup_.exported.disk;
  const auto& h = request_;
  const auto length = static_cast<std::size_t>(h.length);
  if (!w.chunks()) {
    disk.read(h.offset, w.simple_read(h, length));
    return;
  }
  if (length == 0) {
    // Nothing to cover: the NONE chunk alone means success (S-SR-019).
    w.done(h);
    return;
  }
  struct Piece {
    std::uint64_t offset;
    std::uint64_t length;
    bool hole;
  };
  std::vector<Piece> pieces;
  if (h.flags & NBD_CMD_FLAG_DF) {
    // S-SR-052, S-SR-053: one content chunk; data with explicit zeroes
    // unless the whole range is a hole.
    const auto first = disk.extents(h.offset, h.length, 1);
    const bool hole = first.front().state == ExtentState::Hole && first.front().length == h.length;
    if (faulty(ServeFault::DfFragmented) && h.length > 1) {
      pieces.push_back({h.offset, h.length / 2, false});
      pieces.push_back({h.offset + h.length / 2, h.length - h.length / 2, false});
    } else {
      pieces.push_back({h.offset, h.length, hole});
    }
  } else {
    // Holes for unallocated stretches, data for allocated ones, each data
    // chunk within the maximum payload (S-SR-017).
    std::uint64_t pos = h.offset;
    for (const auto& e : disk.extents(h.offset, h.length, SIZE_MAX)) {
      const bool hole = e.state == ExtentState::Hole;
      if (!pieces.empty() && pieces.back().hole == hole) {
        pieces.back().length += e.length;
      } else {
        pieces.push_back({pos, e.length, hole});
      }
      pos += e.length;
    }
    std::vector<Piece> split;
    bool split_first_data = faulty(ServeFault::ReadChunksUnaligned);
    for (const auto& p : pieces) {
      // S-SR-045 broken by read-holes-omitted: the holes go unreported.
      if (p.hole && faulty(ServeFault::ReadHolesOmitted)) continue;
      for (std::uint64_t done = 0; done < p.length;) {
        std::uint64_t n = p.hole ? p.length : std::min(p.length - done, payload_limit());
        // S-SR-040 broken by read-chunks-unaligned.
        constexpr std::uint64_t UNALIGNED_SPLIT = 100;
        if (!p.hole && split_first_data) {
          n = std::min(n, UNALIGNED_SPLIT);
          split_first_data = false;
        }
        split.push_back({p.offset + done, n, p.hole});
        done += n;
      }
    }
    pieces = std::move(split);
    if (pieces.empty()) {
      w.done(h);
      return;
    }
  }
  // S-SR-045: the pieces cover the request; the last one carries DONE, as
  // nothing can fail after it (S-SR-009).
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    const auto& p = pieces[i];
    const bool last = i + 1 == pieces.size();
    if (p.hole) {
      w.offset_hole(h, p.offset, static_cast<std::uint32_t>(p.length), last);
    } else {
      disk.read(p.offset, w.offset_data(h, p.offset, static_cast<std::size_t>(p.length), last));
    }
  }
}

void CommandHandler::block_status(ReplyWriter& w) {
  const auto& h = request_;
  // S-BS-040: one extent for REQ_ONE; S-BS-046: never more than 2^20.
  const bool one = (h.flags & NBD_CMD_FLAG_REQ_ONE) && !faulty(ServeFault::ReqOneIgnored);
  const std::size_t max = one ? 1 : MAX_BLOCK_STATUS_DESCRIPTORS;
  const RamDisk& disk = *setup_.exported.disk;
  // Only block-status-past-end-clamped lets a request reach past the end.
  const std::uint64_t length = std::min(h.length, disk.size() - h.offset);
  // Extents stay inside the request (S-BS-043), start at its offset
  // (S-BS-050), follow page boundaries -- multiples of the minimum block
  // size (X-S-041) -- and merge equal neighbours (S-BS-052).
  std::vector<BlockDescriptor> descriptors;
  for (const auto& e : disk.extents(h.offset, length, max)) {
    std::uint32_t status = allocation_status(e.state);
    // S-BS-018 broken by allocation-unknown-flag.
    if (faulty(ServeFault::AllocationUnknownFlag)) status |= 1u << 2;
    // S-BS-052 broken by extents-not-merged: split in two, 4 KiB aligned.
    constexpr std::uint64_t SPLIT_ALIGNMENT = 4096;
    const std::uint64_t half = e.length / 2 / SPLIT_ALIGNMENT * SPLIT_ALIGNMENT;
    if (faulty(ServeFault::ExtentsNotMerged) && !one && half > 0 && descriptors.size() + 2 <= max) {
      descriptors.push_back({half, status});
      descriptors.push_back({e.length - half, status});
      continue;
    }
    descriptors.push_back({e.length, status});
  }
  // S-BS-001: one chunk for the one selected context.
  w.block_status(h, *setup_.allocation_context, descriptors, true);
}

}  // namespace nbdref::mock
