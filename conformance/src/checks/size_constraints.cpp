// Checks of size constraints (proto.md "Size constraints", "NBD_INFO_BLOCK_SIZE"):
// the advertised minimum, preferred and maximum sizes and their relations,
// the export size against the minimum, requests the constraints forbid
// (unaligned, over the maximum payload) failing cleanly, and the defaults a
// server without advertised constraints must accept.
#include "checks/areas.hpp"
#include "checks/check_support.hpp"
#include "checks/transmission_support.hpp"
#include "probe/probe_error.hpp"
#include "wire/bytes.hpp"
#include "wire/constants.hpp"
#include "wire/limits.hpp"

namespace nbdref::conform {
namespace {

using namespace wire;

// The block sizes of the raw NBD_INFO_BLOCK_SIZE reply, checked here rather
// than by the probe's decoder so that each relation is judged on its own.
struct RawBlockSize {
  std::size_t length = 0;  // of the reply's payload, the type included
  std::uint32_t minimum = 0;
  std::uint32_t preferred = 0;
  std::uint32_t maximum = 0;
};

// The NBD_INFO_BLOCK_SIZE reply to NBD_OPT_INFO asking for it, and the
// export size, on a connection of its own; not applicable when the server
// sends no such reply.
struct Advertised {
  RawBlockSize sizes;
  std::uint64_t export_size = 0;
};

Advertised advertised(CheckContext& ctx) {
  Probe probe = ctx.connect_newstyle();
  const OptionReplies replies =
      probe.request_info(NBD_OPT_INFO, ctx.export_name(), {NBD_INFO_EXPORT, NBD_INFO_BLOCK_SIZE});
  std::optional<RawBlockSize> sizes;
  std::optional<std::uint64_t> export_size;
  for (const OptionReply& r : replies) {
    if (r.type != NBD_REP_INFO || r.payload.size() < 2) continue;
    const std::uint16_t type = load_be16(r.payload.data());
    if (type == NBD_INFO_BLOCK_SIZE) {
      RawBlockSize s;
      s.length = r.payload.size();
      if (s.length >= 14) {
        s.minimum = load_be32(r.payload.data() + 2);
        s.preferred = load_be32(r.payload.data() + 6);
        s.maximum = load_be32(r.payload.data() + 10);
      }
      sizes = s;
    } else if (type == NBD_INFO_EXPORT && r.payload.size() >= 10) {
      export_size = load_be64(r.payload.data() + 2);
    }
  }
  if (!sizes) {
    throw CheckAbort{Status::NotApplicable,
                     "the server sends no NBD_INFO_BLOCK_SIZE (" + reply_types(replies) + ")"};
  }
  if (sizes->length != 14) {
    throw CheckAbort{Status::Fail,
                     "the NBD_INFO_BLOCK_SIZE reply is " + std::to_string(sizes->length) +
                         " bytes long, not 14 [S-SZ-025]",
                     "an NBD_INFO_BLOCK_SIZE reply is exactly 14 bytes [S-SZ-025]"};
  }
  return Advertised{*sizes, export_size.value_or(0)};
}

bool power_of_two(std::uint64_t v) {
  return v != 0 && (v & (v - 1)) == 0;
}

std::string describe(const RawBlockSize& s) {
  return "minimum " + std::to_string(s.minimum) + ", preferred " + std::to_string(s.preferred) +
         ", maximum " + std::to_string(s.maximum);
}

// S-SZ-025, S-SZ-007, S-SZ-008, S-SZ-010, S-SZ-011, S-SZ-013 (proto.md
// "Size constraints", "NBD_INFO_BLOCK_SIZE").
Outcome block_sizes_valid(CheckContext& ctx) {
  const RawBlockSize s = advertised(ctx).sizes;
  const std::string shown = "NBD_INFO_BLOCK_SIZE says " + describe(s);
  const std::string required =
      "the minimum is a power of two of at most 64 KiB, the preferred size a power of two of at "
      "least 512 and the minimum, the maximum at least the preferred size [S-SZ-007, S-SZ-008, "
      "S-SZ-010, S-SZ-011, S-SZ-013]";
  if (!power_of_two(s.minimum)) return ctx.fail(shown + ": minimum not a power of two", required);
  if (s.minimum > MAX_MINIMUM_BLOCK_SIZE)
    return ctx.fail(shown + ": minimum over 64 KiB", required);
  if (!power_of_two(s.preferred)) {
    return ctx.fail(shown + ": preferred size not a power of two", required);
  }
  if (s.preferred < 512 || s.preferred < s.minimum) {
    return ctx.fail(shown + ": preferred size below 512 or below the minimum", required);
  }
  if (s.maximum < s.preferred) {
    return ctx.fail(shown + ": maximum below the preferred size", required);
  }
  return ctx.pass(describe(s));
}

// S-SZ-014 (proto.md "Size constraints").
Outcome max_payload_at_least_1m(CheckContext& ctx) {
  const Advertised a = advertised(ctx);
  constexpr std::uint64_t kMiB = 1 << 20;
  if (a.export_size < kMiB) return ctx.not_applicable("the export is smaller than 1 MiB");
  if (a.sizes.maximum < kMiB) {
    return ctx.fail("NBD_INFO_BLOCK_SIZE says " + describe(a.sizes) + " for an export of " +
                        std::to_string(a.export_size) + " bytes",
                    "the maximum payload is at least 1 MiB when the export is that large "
                    "[S-SZ-014]");
  }
  return ctx.pass(describe(a.sizes));
}

// S-SZ-009 (proto.md "Size constraints").
Outcome size_multiple_of_minimum(CheckContext& ctx) {
  const Advertised a = advertised(ctx);
  if (a.sizes.minimum == 0 || a.export_size % a.sizes.minimum != 0) {
    return ctx.fail("export size " + std::to_string(a.export_size) + " with " + describe(a.sizes),
                    "the export size is a multiple of the minimum block size [S-SZ-009]");
  }
  return ctx.pass();
}

// Sends a request misaligned to the advertised minimum on a connection that
// did not ask for block sizes, expects an error without damage, and that
// the session goes on. `einval` asks for NBD_EINVAL in particular.
Outcome unaligned_refused(CheckContext& ctx, bool einval) {
  const RawBlockSize s = advertised(ctx).sizes;
  if (s.minimum <= 1) {
    return ctx.not_applicable("the minimum block size is " + std::to_string(s.minimum));
  }
  OpenExport e = ctx.open_export();
  const std::uint32_t half = s.minimum / 2;
  const std::string required =
      einval ? "a request misaligned to the minimum block size fails with NBD_EINVAL [S-SZ-020, "
               "S-ERR-007]"
             : "a request outside the advertised constraints fails cleanly with an error reply, "
               "the data untouched and the session usable [S-SZ-006]";
  const bool writable = !(e.flags & NBD_FLAG_READ_ONLY);
  const std::uint64_t at = writable ? ctx.scratch_offset(e.size) : 0;
  std::vector<std::uint8_t> before;
  if (writable) {
    before = test_pattern(2 * s.minimum, 21);
    // C-SZ-008: two minimum blocks may exceed a maximum payload of one.
    require_success(write_in_pieces(e.probe, at, before, s.maximum), "writing the test data");
  }
  try {
    const TransmissionReply read = round_trip(e.probe, NBD_CMD_READ, 0, at + half, s.minimum);
    if (read.error() == 0 || (einval && read.error() != NBD_EINVAL)) {
      return ctx.fail("an NBD_CMD_READ at offset +" + std::to_string(half) + " of " +
                          std::to_string(s.minimum) + " bytes got a " + read.describe(),
                      required);
    }
    if (writable) {
      const TransmissionReply w =
          write_data(e.probe, at + half, std::vector<std::uint8_t>(s.minimum, 0xee));
      if (w.error() == 0 || (einval && w.error() != NBD_EINVAL)) {
        return ctx.fail("an unaligned NBD_CMD_WRITE got a " + w.describe(), required);
      }
    }
    const TransmissionReply after =
        read_in_pieces(e.probe, at, writable ? 2 * s.minimum : s.minimum, s.maximum);
    require_success(after, "the aligned read after it");
    if (writable && after.data != before) {
      return ctx.fail("the refused unaligned write changed the data", required);
    }
  } catch (const ProbeError& err) {
    if (err.kind() != ProbeError::Kind::Closed) throw;
    return ctx.fail("an unaligned request made the server close the connection", required);
  }
  return ctx.pass();
}

Outcome unaligned_fails_cleanly(CheckContext& ctx) {
  return unaligned_refused(ctx, false);
}

Outcome unaligned_einval(CheckContext& ctx) {
  return unaligned_refused(ctx, true);
}

// S-SZ-024, S-SZ-002, S-SZ-001 (proto.md "Size constraints",
// "NBD_INFO_BLOCK_SIZE"): a server that gives no block sizes when asked has
// none to enforce.
Outcome undeclared_alignment(CheckContext& ctx) {
  if (advertised_block_size(ctx)) {
    return ctx.not_applicable("the server advertises its block sizes");
  }
  OpenExport e = ctx.open_export();
  if (e.size < 2) return ctx.not_applicable("the export is smaller than 2 bytes");
  const TransmissionReply r = round_trip(e.probe, NBD_CMD_READ, 0, 1, 1);
  if (r.error() != 0) {
    return ctx.fail("a 1-byte NBD_CMD_READ at offset 1 got a " + r.describe() +
                        ", although NBD_OPT_INFO asking for NBD_INFO_BLOCK_SIZE got none",
                    "a server enforcing constraints other than the defaults (minimum 1) "
                    "advertises them with NBD_INFO_BLOCK_SIZE [S-SZ-024, S-SZ-002, S-SZ-001]");
  }
  return ctx.pass();
}

// S-SZ-003 (proto.md "Size constraints": the default maximum payload).
Outcome default_payload(CheckContext& ctx) {
  if (advertised_block_size(ctx)) {
    return ctx.not_applicable("the server advertises its block sizes");
  }
  OpenExport e = ctx.open_export();
  const std::uint64_t length = std::min<std::uint64_t>(e.size, DEFAULT_MAX_PAYLOAD);
  const TransmissionReply r = round_trip(e.probe, NBD_CMD_READ, 0, 0, length);
  if (r.error() != 0) {
    return ctx.fail("an NBD_CMD_READ of " + std::to_string(length) + " bytes got a " + r.describe(),
                    "without advertised constraints the server accepts payloads of up to 32 MiB "
                    "[S-SZ-003]");
  }
  return ctx.pass("read " + std::to_string(length) + " bytes");
}

// S-SZ-022, S-SZ-005 (proto.md "Size constraints", "NBD_OPT_INFO /
// NBD_OPT_GO"): a server whose constraints are the defaults lets a client
// that does not ask for block sizes in.
Outcome no_block_size_reqd_by_default(CheckContext& ctx) {
  const auto sizes = advertised_block_size(ctx);
  if (sizes && sizes->minimum > 1) {
    return ctx.not_applicable("the server advertises a minimum block size of " +
                              std::to_string(sizes->minimum));
  }
  Probe probe = ctx.connect_newstyle();
  const OptionReplies go = probe.request_info(NBD_OPT_GO, ctx.export_name());
  if (go.back().type == NBD_REP_ERR_BLOCK_SIZE_REQD) {
    return ctx.fail("NBD_OPT_GO without NBD_INFO_BLOCK_SIZE got " + go.back().describe() +
                        (sizes ? " though the minimum block size is 1"
                               : " though no block sizes are advertised"),
                    "a server using the default constraints does not refuse clients that did "
                    "not ask for block sizes [S-SZ-022, S-SZ-005]");
  }
  return ctx.pass(reply_types(go));
}

// S-SR-017 (proto.md "Structured reply types": no chunk's variable part
// beyond the maximum payload). A structured READ longer than the maximum
// is refused, or served in chunks each within it.
Outcome read_chunks_within_maximum(CheckContext& ctx) {
  const RawBlockSize s = advertised(ctx).sizes;
  ExportSetup setup;
  setup.structured_replies = true;
  OpenExport e = ctx.open_export(setup);
  const std::uint64_t length = std::uint64_t{s.maximum} + kTestBlock;
  if (length > e.size || length > 2 * DEFAULT_MAX_PAYLOAD) {
    return ctx.not_applicable("a READ beyond the maximum payload " + std::to_string(s.maximum) +
                              " does not fit the export or the probe");
  }
  const RequestHeader request = e.probe.send_request(NBD_CMD_READ, 0, 0, length);
  const TransmissionReply reply = e.probe.read_reply(request);
  require_valid_reply(request, reply, e.probe);
  for (const ReplyChunk& chunk : reply.chunks) {
    if (chunk.header.type == NBD_REPLY_TYPE_OFFSET_DATA &&
        chunk.payload.size() - OFFSET_DATA_PREFIX_SIZE > s.maximum) {
      return ctx.fail("a READ of " + std::to_string(length) +
                          " bytes got an OFFSET_DATA chunk of " +
                          std::to_string(chunk.payload.size() - OFFSET_DATA_PREFIX_SIZE) +
                          " bytes of data, over the maximum payload " + std::to_string(s.maximum),
                      "no chunk's variable-length part exceeds the advertised maximum payload "
                      "[S-SR-017]");
    }
  }
  return ctx.pass(describe_chunks(reply));
}

// The advertised maximum payload when it is below `limit`; the check is
// not applicable otherwise.
std::uint32_t maximum_below(CheckContext& ctx, std::uint64_t limit) {
  const RawBlockSize s = advertised(ctx).sizes;
  if (s.maximum >= limit) {
    throw CheckAbort{Status::NotApplicable, "the maximum payload " + std::to_string(s.maximum) +
                                                " leaves no room above it"};
  }
  return s.maximum;
}

// S-SZ-016 (proto.md "Size constraints": payloads of at most 32 MiB above
// the maximum are not treated as an attack). The write reaches past the
// end, so a server that takes it still writes nothing. It exceeds the
// maximum payload on purpose (a client breaking C-SZ-008 is what the clause
// is about).
Outcome oversized_write_no_disconnect(CheckContext& ctx) {
  const std::uint32_t maximum = maximum_below(ctx, DEFAULT_MAX_PAYLOAD);
  OpenExport e = ctx.open_export();
  const std::uint64_t length = std::min<std::uint64_t>(DEFAULT_MAX_PAYLOAD, maximum + kTestBlock);
  const std::uint64_t at = e.size > kTestBlock ? e.size - kTestBlock : 0;
  try {
    const TransmissionReply w = write_data(e.probe, at, std::vector<std::uint8_t>(length, 0x5a));
    round_trip(e.probe, NBD_CMD_READ, 0, 0, std::min<std::uint64_t>(e.size, 512));
    return ctx.pass("the write of " + std::to_string(length) + " bytes got a " + w.describe());
  } catch (const ProbeError& err) {
    if (err.kind() != ProbeError::Kind::Closed) throw;
    return ctx.fail("an NBD_CMD_WRITE of " + std::to_string(length) + " bytes (maximum payload " +
                        std::to_string(maximum) + ") made the server close the connection",
                    "a payload of at most 32 MiB above the maximum is consumed and answered, not "
                    "treated as an attack [S-SZ-016]");
  }
}

// S-SZ-019 (proto.md "Size constraints": TRIM and WRITE_ZEROES beyond the
// maximum payload). The range reaches past the end, so nothing is changed.
Outcome oversized_effect_no_disconnect(CheckContext& ctx) {
  const std::uint32_t maximum = maximum_below(ctx, 0xffffffffu - kTestBlock);
  OpenExport e = ctx.open_export();
  std::uint16_t type = 0;
  if (e.flags & NBD_FLAG_SEND_TRIM) {
    type = NBD_CMD_TRIM;
  } else if (e.flags & NBD_FLAG_SEND_WRITE_ZEROES) {
    type = NBD_CMD_WRITE_ZEROES;
  } else {
    return ctx.not_applicable("the export offers neither TRIM nor WRITE_ZEROES");
  }
  const std::uint64_t length = std::uint64_t{maximum} + kTestBlock;
  const std::uint64_t at = e.size > kTestBlock ? e.size - kTestBlock : 0;
  try {
    const TransmissionReply r = round_trip(e.probe, type, 0, at, length);
    round_trip(e.probe, NBD_CMD_READ, 0, 0, std::min<std::uint64_t>(e.size, 512));
    return ctx.pass(describe_command(type) + " got a " + r.describe());
  } catch (const ProbeError& err) {
    if (err.kind() != ProbeError::Kind::Closed) throw;
    return ctx.fail(describe_command(type) + " of " + std::to_string(length) +
                        " bytes (maximum payload " + std::to_string(maximum) +
                        ") made the server close the connection",
                    "TRIM and WRITE_ZEROES beyond the maximum payload do not disconnect; at most "
                    "they fail with NBD_EOVERFLOW or NBD_EINVAL [S-SZ-019]");
  }
}

}  // namespace

void add_size_constraint_checks(Catalogue& c) {
  const std::string area = "size-constraints";
  c.add({"sz.block-sizes-valid",
         area,
         {"S-SZ-025", "S-SZ-007", "S-SZ-008", "S-SZ-010", "S-SZ-011", "S-SZ-013"},
         Level::Must,
         "NBD_INFO_BLOCK_SIZE is 14 bytes and its three sizes are consistent",
         &block_sizes_valid});
  c.add({"sz.max-payload-at-least-1m",
         area,
         {"S-SZ-014"},
         Level::Should,
         "the advertised maximum payload is at least 1 MiB",
         &max_payload_at_least_1m});
  c.add({"sz.size-multiple-of-minimum",
         area,
         {"S-SZ-009"},
         Level::Should,
         "the export size is a multiple of the advertised minimum block size",
         &size_multiple_of_minimum});
  c.add({"sz.unaligned-fails-cleanly",
         area,
         {"S-SZ-006"},
         Level::Must,
         "requests misaligned to the minimum block size fail without damage",
         &unaligned_fails_cleanly});
  c.add({"sz.unaligned-einval",
         area,
         {"S-SZ-020", "S-ERR-007"},
         Level::Should,
         "requests misaligned to the minimum block size fail with NBD_EINVAL",
         &unaligned_einval});
  c.add({"sz.undeclared-alignment",
         area,
         {"S-SZ-024", "S-SZ-002", "S-SZ-001"},
         Level::Must,
         "without advertised block sizes, a 1-byte read at offset 1 succeeds",
         &undeclared_alignment});
  c.add({"sz.default-payload",
         area,
         {"S-SZ-003"},
         Level::Should,
         "without advertised block sizes, a 32 MiB read succeeds",
         &default_payload});
  c.add({"sz.no-block-size-reqd-by-default",
         area,
         {"S-SZ-022", "S-SZ-005"},
         Level::ShouldNot,
         "with default constraints, NBD_OPT_GO without block sizes is not refused",
         &no_block_size_reqd_by_default});
  c.add({"sz.read-chunks-within-maximum",
         area,
         {"S-SR-017"},
         Level::MustNot,
         "a READ beyond the maximum payload is refused or served in chunks within it",
         &read_chunks_within_maximum});
  c.add({"sz.oversized-write-no-disconnect",
         area,
         {"S-SZ-016"},
         Level::ShouldNot,
         "a write of up to 32 MiB above the maximum payload does not disconnect",
         &oversized_write_no_disconnect});
  c.add({"sz.oversized-effect-no-disconnect",
         area,
         {"S-SZ-019"},
         Level::ShouldNot,
         "TRIM or WRITE_ZEROES beyond the maximum payload does not disconnect",
         &oversized_effect_no_disconnect});
}

}  // namespace nbdref::conform
