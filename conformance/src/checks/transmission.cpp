// Checks of the transmission phase without structured replies (proto.md
// "Transmission", "Request types", "Error values", "Transmission flags",
// "Baseline"): reads, writes, flush, trim and write zeroes, the edges of
// the export, read-only exports, unknown commands and flags, and
// NBD_CMD_DISC. Checks that write use their own region of the export
// (CheckContext::scratch_offset) and read every reply in full.
#include <algorithm>
#include <functional>

#include "checks/areas.hpp"
#include "checks/check_support.hpp"
#include "checks/transmission_support.hpp"
#include "probe/probe_error.hpp"
#include "runner/check_context.hpp"
#include "wire/constants.hpp"

namespace nbdref::conform {
namespace {

using namespace wire;

// Bytes each check reads or writes in its region.
constexpr std::uint64_t kBlock = 4096;
// A command type no version of the protocol defines.
constexpr std::uint16_t kUnassignedCommand = 0x4e42;
// A command flag bit no version of the protocol defines.
constexpr std::uint16_t kUnassignedCommandFlag = 1u << 15;

void require_read_only(const OpenExport& e) {
  if (!(e.flags & NBD_FLAG_READ_ONLY)) {
    throw CheckAbort{Status::NotApplicable, "the export is writable"};
  }
}

// An offset a little before the end of the export, so that kBlock bytes
// from it reach past the end.
std::uint64_t near_end(const OpenExport& e) {
  return e.size >= 512 ? e.size - 512 : 0;
}

bool is_defined_error(std::uint32_t error) {
  switch (error) {
    case NBD_EPERM:
    case NBD_EIO:
    case NBD_ENOMEM:
    case NBD_EINVAL:
    case NBD_ENOSPC:
    case NBD_EOVERFLOW:
    case NBD_ENOTSUP:
    case NBD_ESHUTDOWN:
      return true;
    default:
      return false;
  }
}

// Judges the error of a request the server should refuse with `expected`.
Outcome expect_error(CheckContext& ctx, const TransmissionReply& reply, std::uint32_t expected,
                     const std::string& what, const std::string& required) {
  if (reply.error() == expected) return ctx.pass();
  return ctx.fail(what + " was answered with a " + reply.describe(), required);
}

// S-TX-001, S-TX-029, S-TX-031, S-SR-002, S-INT-008 (proto.md
// "Transmission", "NBD_CMD_READ", "Baseline").
Outcome read_simple(CheckContext& ctx) {
  OpenExport e = ctx.open_export();
  const TransmissionReply reply = round_trip(e.probe, NBD_CMD_READ, 0, 0, std::min(e.size, kBlock));
  if (!reply.is_simple()) {
    return ctx.fail("without structured replies negotiated, NBD_CMD_READ got a " + reply.describe(),
                    "without structured replies every reply is a simple reply [S-TX-001, "
                    "S-TX-029, S-SR-002]");
  }
  if (reply.error() != 0) {
    return ctx.fail("NBD_CMD_READ of the export's start failed: " + reply.describe(),
                    "every server implements NBD_CMD_READ [S-INT-008]");
  }
  return ctx.pass();
}

// S-TX-037, S-INT-008 (proto.md "NBD_CMD_WRITE", "Baseline").
Outcome write_read_back(CheckContext& ctx) {
  OpenExport e = ctx.open_export();
  require_writable(e);
  const std::uint64_t at = ctx.scratch_offset(e.size);
  const auto data = test_pattern(kBlock, 1);
  const TransmissionReply w = write_data(e.probe, at, data);
  if (w.error() != 0) {
    return ctx.fail("NBD_CMD_WRITE to a writable export failed: " + w.describe(),
                    "every server implements NBD_CMD_WRITE [S-INT-008]");
  }
  const TransmissionReply r = round_trip(e.probe, NBD_CMD_READ, 0, at, kBlock);
  require_success(r, "reading the data back");
  if (r.data != data) {
    return ctx.fail("NBD_CMD_READ after the NBD_CMD_WRITE reply returned other data",
                    "a write is done before its reply: a later read returns the data "
                    "[S-TX-037]");
  }
  return ctx.pass();
}

// S-INT-012 (proto.md "Maximum interoperability").
Outcome flush_and_fua_offered(CheckContext& ctx) {
  OpenExport e = ctx.open_export();
  // The recommendation is for the safety of writes.
  require_writable(e);
  std::string missing;
  if (!(e.flags & NBD_FLAG_SEND_FLUSH)) missing = "NBD_FLAG_SEND_FLUSH";
  if (!(e.flags & NBD_FLAG_SEND_FUA))
    missing += (missing.empty() ? "" : " and ") + std::string("NBD_FLAG_SEND_FUA");
  if (!missing.empty()) {
    return ctx.fail(
        "transmission flags " + describe_transmission_flags(e.flags) + " lack " + missing,
        "servers implement NBD_CMD_FLUSH and NBD_CMD_FLAG_FUA on writes [S-INT-012]");
  }
  return ctx.pass();
}

// S-TX-014 (proto.md "Transmission flags": a flag exposing a feature is set
// only when the feature works).
Outcome advertised_commands_work(CheckContext& ctx) {
  OpenExport e = ctx.open_export();
  const bool writable = !(e.flags & NBD_FLAG_READ_ONLY);
  const std::uint64_t at = writable ? ctx.scratch_offset(e.size) : 0;
  const std::string required = "a command whose flag is advertised works [S-TX-014]";
  struct Trial {
    std::uint16_t flag;
    bool needs_write;
    std::uint16_t type;
    std::uint16_t command_flags;
    const char* what;
  };
  const Trial trials[] = {
      {NBD_FLAG_SEND_FLUSH, false, NBD_CMD_FLUSH, 0, "NBD_CMD_FLUSH"},
      {NBD_FLAG_SEND_FUA, true, NBD_CMD_WRITE, NBD_CMD_FLAG_FUA, "NBD_CMD_WRITE with FUA"},
      {NBD_FLAG_SEND_TRIM, true, NBD_CMD_TRIM, 0, "NBD_CMD_TRIM"},
      {NBD_FLAG_SEND_WRITE_ZEROES, true, NBD_CMD_WRITE_ZEROES, 0, "NBD_CMD_WRITE_ZEROES"},
  };
  std::string tried;
  for (const Trial& t : trials) {
    if (!(e.flags & t.flag) || (t.needs_write && !writable)) continue;
    const bool flush = t.type == NBD_CMD_FLUSH;
    const auto data = test_pattern(kBlock, 2);
    const TransmissionReply reply =
        t.type == NBD_CMD_WRITE
            ? write_data(e.probe, at, data, t.command_flags)
            : round_trip(e.probe, t.type, t.command_flags, flush ? 0 : at, flush ? 0 : kBlock);
    if (reply.error() != 0) {
      return ctx.fail(std::string(t.what) + " failed although advertised: " + reply.describe(),
                      required);
    }
    tried += (tried.empty() ? "" : ", ") + std::string(t.what);
  }
  if (tried.empty()) return ctx.not_applicable("no optional command is advertised");
  return ctx.pass(tried);
}

// S-TX-051 (proto.md "NBD_CMD_WRITE_ZEROES").
Outcome write_zeroes_reads_zero(CheckContext& ctx) {
  OpenExport e = ctx.open_export();
  require_writable(e);
  require_flag(e, NBD_FLAG_SEND_WRITE_ZEROES, "NBD_FLAG_SEND_WRITE_ZEROES");
  const std::uint64_t at = ctx.scratch_offset(e.size);
  require_success(write_data(e.probe, at, test_pattern(kBlock, 3)), "writing the test data");
  require_success(round_trip(e.probe, NBD_CMD_WRITE_ZEROES, 0, at, kBlock), "NBD_CMD_WRITE_ZEROES");
  const TransmissionReply r = round_trip(e.probe, NBD_CMD_READ, 0, at, kBlock);
  require_success(r, "reading the range back");
  if (std::any_of(r.data.begin(), r.data.end(), [](std::uint8_t b) { return b != 0; })) {
    return ctx.fail("the range read back holds nonzero bytes after NBD_CMD_WRITE_ZEROES",
                    "after a successful NBD_CMD_WRITE_ZEROES the range reads as zeroes "
                    "[S-TX-051]");
  }
  return ctx.pass();
}

// S-TX-025 (proto.md "Command flags": NBD_CMD_FLAG_FUA).
Outcome fua_accepted_everywhere(CheckContext& ctx) {
  OpenExport e = ctx.open_export();
  require_flag(e, NBD_FLAG_SEND_FUA, "NBD_FLAG_SEND_FUA");
  const std::string required =
      "with NBD_FLAG_SEND_FUA advertised, NBD_CMD_FLAG_FUA is accepted on any command "
      "[S-TX-025]";
  const TransmissionReply read =
      round_trip(e.probe, NBD_CMD_READ, NBD_CMD_FLAG_FUA, 0, std::min(e.size, kBlock));
  if (read.error() == NBD_EINVAL) {
    return ctx.fail("NBD_CMD_READ with FUA was refused: " + read.describe(), required);
  }
  if (e.flags & NBD_FLAG_SEND_FLUSH) {
    const TransmissionReply flush = round_trip(e.probe, NBD_CMD_FLUSH, NBD_CMD_FLAG_FUA, 0, 0);
    if (flush.error() == NBD_EINVAL) {
      return ctx.fail("NBD_CMD_FLUSH with FUA was refused: " + flush.describe(), required);
    }
  }
  return ctx.pass();
}

// S-TX-027 (proto.md "Command flags": NBD_CMD_FLAG_NO_HOLE).
Outcome no_hole_accepted(CheckContext& ctx) {
  OpenExport e = ctx.open_export();
  require_writable(e);
  require_flag(e, NBD_FLAG_SEND_WRITE_ZEROES, "NBD_FLAG_SEND_WRITE_ZEROES");
  const TransmissionReply r = round_trip(e.probe, NBD_CMD_WRITE_ZEROES, NBD_CMD_FLAG_NO_HOLE,
                                         ctx.scratch_offset(e.size), kBlock);
  if (r.error() != 0) {
    return ctx.fail("NBD_CMD_WRITE_ZEROES with NO_HOLE failed: " + r.describe(),
                    "a server advertising NBD_FLAG_SEND_WRITE_ZEROES accepts NBD_CMD_FLAG_NO_HOLE "
                    "[S-TX-027]");
  }
  return ctx.pass();
}

// S-TX-055 (proto.md "NBD_CMD_WRITE_ZEROES").
Outcome zeroes_without_fast_zero(CheckContext& ctx) {
  OpenExport e = ctx.open_export();
  require_writable(e);
  require_flag(e, NBD_FLAG_SEND_FAST_ZERO, "NBD_FLAG_SEND_FAST_ZERO");
  const TransmissionReply r =
      round_trip(e.probe, NBD_CMD_WRITE_ZEROES, 0, ctx.scratch_offset(e.size), kBlock);
  if (r.error() == NBD_ENOTSUP) {
    return ctx.fail("NBD_CMD_WRITE_ZEROES without FAST_ZERO failed with NBD_ENOTSUP",
                    "without NBD_CMD_FLAG_FAST_ZERO, NBD_CMD_WRITE_ZEROES never fails with "
                    "NBD_ENOTSUP [S-TX-055]");
  }
  return ctx.pass();
}

// S-ERR-005, S-SZ-020 (proto.md "Error values", "Size constraints").
Outcome read_past_end(CheckContext& ctx) {
  OpenExport e = ctx.open_export();
  const TransmissionReply r = round_trip(e.probe, NBD_CMD_READ, 0, near_end(e), kBlock);
  return expect_error(ctx, r, NBD_EINVAL, "NBD_CMD_READ past the end of the export",
                      "a read past the end fails with NBD_EINVAL [S-ERR-005, S-SZ-020]");
}

// S-ERR-003 (proto.md "Error values").
Outcome write_past_end(CheckContext& ctx) {
  OpenExport e = ctx.open_export();
  require_writable(e);
  const TransmissionReply r = write_data(e.probe, near_end(e), test_pattern(kBlock, 4));
  return expect_error(ctx, r, NBD_ENOSPC, "NBD_CMD_WRITE past the end of the export",
                      "a write past the end fails with NBD_ENOSPC [S-ERR-003]");
}

// S-ERR-006 (proto.md "Error values").
Outcome trim_past_end(CheckContext& ctx) {
  OpenExport e = ctx.open_export();
  require_writable(e);
  require_flag(e, NBD_FLAG_SEND_TRIM, "NBD_FLAG_SEND_TRIM");
  const TransmissionReply r = round_trip(e.probe, NBD_CMD_TRIM, 0, near_end(e), kBlock);
  return expect_error(ctx, r, NBD_EINVAL, "NBD_CMD_TRIM past the end of the export",
                      "a trim past the end fails with NBD_EINVAL [S-ERR-006]");
}

// S-ERR-001 (proto.md "NBD_CMD_WRITE_ZEROES").
Outcome write_zeroes_past_end(CheckContext& ctx) {
  OpenExport e = ctx.open_export();
  require_writable(e);
  require_flag(e, NBD_FLAG_SEND_WRITE_ZEROES, "NBD_FLAG_SEND_WRITE_ZEROES");
  const TransmissionReply r = round_trip(e.probe, NBD_CMD_WRITE_ZEROES, 0, near_end(e), kBlock);
  return expect_error(ctx, r, NBD_ENOSPC, "NBD_CMD_WRITE_ZEROES past the end of the export",
                      "write zeroes past the end fails with NBD_ENOSPC [S-ERR-001]");
}

// S-TX-030, S-TX-036, S-TX-044, S-TX-050 (proto.md "Request types").
Outcome zero_length_requests(CheckContext& ctx) {
  OpenExport e = ctx.open_export();
  const bool writable = !(e.flags & NBD_FLAG_READ_ONLY);
  const std::uint64_t at = writable ? ctx.scratch_offset(e.size) : 0;
  std::vector<std::pair<std::uint16_t, const char*>> commands = {{NBD_CMD_READ, "NBD_CMD_READ"}};
  if (writable) {
    commands.push_back({NBD_CMD_WRITE, "NBD_CMD_WRITE"});
    if (e.flags & NBD_FLAG_SEND_TRIM) commands.push_back({NBD_CMD_TRIM, "NBD_CMD_TRIM"});
    if (e.flags & NBD_FLAG_SEND_WRITE_ZEROES) {
      commands.push_back({NBD_CMD_WRITE_ZEROES, "NBD_CMD_WRITE_ZEROES"});
    }
  }
  for (const auto& command : commands) {
    try {
      round_trip(e.probe, command.first, 0, at, 0);
    } catch (const ProbeError& err) {
      if (err.kind() != ProbeError::Kind::Closed) throw;
      return ctx.fail(
          std::string("a zero-length ") + command.second + " made the server close the connection",
          "zero-length requests do not make the server disconnect [S-TX-030, "
          "S-TX-036, S-TX-044, S-TX-050]");
    }
  }
  return ctx.pass();
}

// Whether a session may end after the refused request: never for an
// unknown command type, which no MUST forbids a client to send (S-ERR-011
// wants the connection usable); after a command flag the client must not
// set (C-TX-015), the server may hang up once it has answered.
enum class After { StaysUsable, MayEnd };

// Sends a request the server should refuse with NBD_EINVAL, then checks
// that the session goes on with a read.
Outcome expect_einval_and_usable(CheckContext& ctx, std::uint16_t type, std::uint16_t flags,
                                 After after, const std::string& what,
                                 const std::string& required) {
  OpenExport e = ctx.open_export();
  TransmissionReply reply;
  try {
    reply = round_trip(e.probe, type, flags, 0, std::min(e.size, std::uint64_t{512}));
  } catch (const ProbeError& err) {
    if (err.kind() != ProbeError::Kind::Closed) throw;
    return ctx.fail(what + " made the server close the connection", required);
  }
  if (reply.error() != NBD_EINVAL) {
    return ctx.fail(what + " was answered with a " + reply.describe(), required);
  }
  TransmissionReply next;
  try {
    next = round_trip(e.probe, NBD_CMD_READ, 0, 0, std::min(e.size, kBlock));
  } catch (const ProbeError& err) {
    if (err.kind() != ProbeError::Kind::Closed || after == After::StaysUsable) throw;
    return ctx.pass("refused with NBD_EINVAL, then the session ended (the flag breaks C-TX-015)");
  }
  require_success(next, "the read after it");
  return ctx.pass();
}

// S-ERR-011 (proto.md "Error values").
Outcome unknown_command(CheckContext& ctx) {
  return expect_einval_and_usable(ctx, kUnassignedCommand, 0, After::StaysUsable,
                                  "an unknown command type",
                                  "an unknown command fails with NBD_EINVAL and the connection "
                                  "stays usable [S-ERR-011]");
}

// S-ERR-012 (proto.md "Error values").
Outcome unknown_command_flag(CheckContext& ctx) {
  return expect_einval_and_usable(ctx, NBD_CMD_READ, kUnassignedCommandFlag, After::MayEnd,
                                  "NBD_CMD_READ with an unknown flag bit",
                                  "an unknown command flag fails with NBD_EINVAL [S-ERR-012]");
}

// S-ERR-013 (proto.md "Error values").
Outcome inapplicable_command_flag(CheckContext& ctx) {
  return expect_einval_and_usable(ctx, NBD_CMD_READ, NBD_CMD_FLAG_REQ_ONE, After::MayEnd,
                                  "NBD_CMD_READ with NBD_CMD_FLAG_REQ_ONE",
                                  "a flag not documented for the command fails with NBD_EINVAL "
                                  "[S-ERR-013]");
}

// A request a server refuses and the reply it got.
struct Refusal {
  std::string what;
  TransmissionReply reply;
};

// Requests every server refuses, on one connection: reads, writes, trims
// and write zeroes reaching past the end (writes also on a read-only
// export), an unknown command flag, a flag on a command it does not apply
// to, and an unknown command. All but the last break a client MUST, so the
// server may hang up instead of answering: that ends the list early. The
// replies that report an error.
std::vector<Refusal> provoke_refusals(CheckContext& ctx) {
  OpenExport e = ctx.open_export();
  const bool writable = !(e.flags & NBD_FLAG_READ_ONLY);
  const auto data = test_pattern(kBlock, 5);
  struct Request {
    const char* what;
    std::function<TransmissionReply()> send;
  };
  std::vector<Request> requests = {
      {"NBD_CMD_READ past the end",
       [&] { return round_trip(e.probe, NBD_CMD_READ, 0, near_end(e), kBlock); }},
      {"NBD_CMD_WRITE past the end", [&] { return write_data(e.probe, near_end(e), data); }},
  };
  if (writable && (e.flags & NBD_FLAG_SEND_TRIM)) {
    requests.push_back({"NBD_CMD_TRIM past the end",
                        [&] { return round_trip(e.probe, NBD_CMD_TRIM, 0, near_end(e), kBlock); }});
  }
  if (writable && (e.flags & NBD_FLAG_SEND_WRITE_ZEROES)) {
    requests.push_back({"NBD_CMD_WRITE_ZEROES past the end", [&] {
                          return round_trip(e.probe, NBD_CMD_WRITE_ZEROES, 0, near_end(e), kBlock);
                        }});
  }
  requests.push_back({"NBD_CMD_READ with an unknown flag", [&] {
                        return round_trip(e.probe, NBD_CMD_READ, kUnassignedCommandFlag, 0, 512);
                      }});
  requests.push_back({"NBD_CMD_READ with NBD_CMD_FLAG_REQ_ONE", [&] {
                        return round_trip(e.probe, NBD_CMD_READ, NBD_CMD_FLAG_REQ_ONE, 0, 512);
                      }});
  requests.push_back(
      {"an unknown command", [&] { return round_trip(e.probe, kUnassignedCommand, 0, 0, 0); }});
  std::vector<Refusal> refusals;
  for (const Request& request : requests) {
    TransmissionReply r;
    try {
      r = request.send();
    } catch (const ProbeError& err) {
      if (err.kind() != ProbeError::Kind::Closed) throw;
      break;
    }
    if (r.error() != 0) refusals.push_back({request.what, std::move(r)});
  }
  if (refusals.empty()) {
    throw CheckAbort{Status::NotApplicable, "the server refused none of the requests"};
  }
  return refusals;
}

// S-ERR-015 (proto.md "Error values": the error field takes only the
// defined values).
Outcome error_values_defined(CheckContext& ctx) {
  for (const Refusal& r : provoke_refusals(ctx)) {
    if (!is_defined_error(r.reply.error())) {
      return ctx.fail(r.what + " was refused with " + describe_nbd_error(r.reply.error()),
                      "error fields hold only the defined values 1, 5, 12, 22, 28, 75, 95, 108 "
                      "[S-ERR-015]");
    }
  }
  return ctx.pass();
}

// S-ERR-009, S-ERR-010 (proto.md "Error values"): NBD_EOVERFLOW only for a
// READ with NBD_CMD_FLAG_DF or a command without payload longer than the
// maximum payload, NBD_ENOTSUP only for WRITE_ZEROES with FAST_ZERO; none
// of the refused requests is either.
Outcome error_values_where_allowed(CheckContext& ctx) {
  std::string seen;
  for (const Refusal& r : provoke_refusals(ctx)) {
    const std::uint32_t error = r.reply.error();
    if (error == NBD_EOVERFLOW || error == NBD_ENOTSUP) {
      return ctx.fail(r.what + " was refused with " + describe_nbd_error(error),
                      "NBD_EOVERFLOW is kept for too long DF reads and payload-less commands "
                      "beyond the maximum payload [S-ERR-009], NBD_ENOTSUP for WRITE_ZEROES with "
                      "FAST_ZERO [S-ERR-010]");
    }
    seen += (seen.empty() ? "" : ", ") + describe_nbd_error(error);
  }
  return ctx.pass(seen);
}

// S-TX-032, S-TX-039, S-TX-062 (proto.md "NBD_CMD_READ", "NBD_CMD_WRITE",
// "NBD_CMD_WRITE_ZEROES"): a request that cannot be carried out -- one
// reaching past the end of the export -- is answered with a nonzero error
// of the defined values, never with success. Each goes on a connection of
// its own: it breaks a client MUST (C-SZ-012), so the server may end the
// session instead, which breaks nothing.
Outcome failed_requests_carry_errors(CheckContext& ctx) {
  struct Attempt {
    std::uint16_t type;
    const char* what;
    const char* clause;
  };
  const Attempt attempts[] = {
      {NBD_CMD_READ, "NBD_CMD_READ", "S-TX-032"},
      {NBD_CMD_WRITE, "NBD_CMD_WRITE", "S-TX-039"},
      {NBD_CMD_WRITE_ZEROES, "NBD_CMD_WRITE_ZEROES", "S-TX-062"},
  };
  std::string seen;
  for (const Attempt& a : attempts) {
    OpenExport e = ctx.open_export();
    if (a.type == NBD_CMD_WRITE_ZEROES && !(e.flags & NBD_FLAG_SEND_WRITE_ZEROES)) continue;
    TransmissionReply r;
    try {
      r = a.type == NBD_CMD_WRITE ? write_data(e.probe, near_end(e), test_pattern(kBlock, 9))
                                  : round_trip(e.probe, a.type, 0, near_end(e), kBlock);
    } catch (const ProbeError& err) {
      if (err.kind() != ProbeError::Kind::Closed) throw;
      seen += (seen.empty() ? "" : "; ") + std::string(a.what) + ": the session ended";
      continue;
    }
    const std::string required =
        "a READ, WRITE or WRITE_ZEROES that fails is answered with a nonzero error of the "
        "defined values [S-TX-032, S-TX-039, S-TX-062]";
    if (r.error() == 0) {
      return ctx.fail(std::string(a.what) +
                          " reaching past the end of the export was answered "
                          "with success: " +
                          r.describe() + " [" + a.clause + "]",
                      required);
    }
    if (!is_defined_error(r.error())) {
      return ctx.fail(std::string(a.what) +
                          " reaching past the end of the export was refused with " +
                          describe_nbd_error(r.error()) + " [" + a.clause + "]",
                      required);
    }
    seen += (seen.empty() ? "" : "; ") + std::string(a.what) + ": " + describe_nbd_error(r.error());
  }
  return ctx.pass(seen);
}

// S-TX-034 (proto.md "NBD_CMD_READ"): no data follows the simple reply to a
// failed READ; the next bytes are the next reply. A READ past the end, then
// a READ inside the export: the bytes after the first reply's header must
// be the second reply.
Outcome failed_read_no_payload(CheckContext& ctx) {
  OpenExport e = ctx.open_export();
  const TransmissionReply failed = round_trip(e.probe, NBD_CMD_READ, 0, near_end(e), kBlock);
  if (failed.error() == 0) {
    return ctx.not_applicable("the server served a READ past the end: " + failed.describe());
  }
  const std::string required =
      "no data follows the simple reply to a failed READ: the next bytes are the next reply "
      "[S-TX-034]";
  try {
    round_trip(e.probe, NBD_CMD_READ, 0, 0, std::min(e.size, std::uint64_t{512}));
  } catch (const ProbeError& err) {
    if (err.kind() == ProbeError::Kind::Closed) {
      return ctx.not_applicable(
          "the server ended the session after refusing a READ past the end, which breaks a "
          "client MUST (C-SZ-012)");
    }
    if (err.kind() != ProbeError::Kind::Violation) throw;
    return ctx.fail("after the simple reply refusing a READ past the end (" + failed.describe() +
                        "), the next bytes were not the next reply: " + err.what(),
                    required);
  }
  return ctx.pass();
}

// S-TX-049, S-TX-045 (proto.md "NBD_CMD_CACHE"): a server advertising
// NBD_FLAG_SEND_CACHE rejects command flags it does not know, with an
// appropriate error (a defined value: proto.md "Error values" names
// NBD_EINVAL). The flag breaks a client MUST (C-TX-015), so the server may
// end the session instead.
Outcome cache_unknown_flag(CheckContext& ctx) {
  OpenExport e = ctx.open_export();
  require_flag(e, NBD_FLAG_SEND_CACHE, "NBD_FLAG_SEND_CACHE");
  TransmissionReply r;
  try {
    r = round_trip(e.probe, NBD_CMD_CACHE, kUnassignedCommandFlag, 0, std::min(e.size, kBlock));
  } catch (const ProbeError& err) {
    if (err.kind() != ProbeError::Kind::Closed) throw;
    return ctx.pass("the server ended the session (the unknown flag breaks C-TX-015)");
  }
  const std::string required =
      "with NBD_FLAG_SEND_CACHE advertised, NBD_CMD_CACHE with a flag the server does not know "
      "fails [S-TX-049] with an appropriate nonzero error [S-TX-045]";
  if (r.error() == 0) {
    return ctx.fail("NBD_CMD_CACHE with the unknown flag bit 15 succeeded: " + r.describe(),
                    required);
  }
  if (!is_defined_error(r.error())) {
    return ctx.fail("NBD_CMD_CACHE with the unknown flag bit 15 was refused with " +
                        describe_nbd_error(r.error()),
                    required);
  }
  return ctx.pass(r.describe());
}

// S-TX-059, S-TX-060 (proto.md "NBD_CMD_WRITE_ZEROES"): a server that does
// not advertise NBD_FLAG_SEND_FAST_ZERO never fails WRITE_ZEROES with
// NBD_ENOTSUP, and answers NBD_CMD_FLAG_FAST_ZERO with NBD_EINVAL. The flag
// breaks a client MUST (C-TX-013), so the server may end the session
// instead.
Outcome fast_zero_unadvertised(CheckContext& ctx) {
  OpenExport e = ctx.open_export();
  require_writable(e);
  require_flag(e, NBD_FLAG_SEND_WRITE_ZEROES, "NBD_FLAG_SEND_WRITE_ZEROES");
  if (e.flags & NBD_FLAG_SEND_FAST_ZERO) {
    return ctx.not_applicable("the export advertises NBD_FLAG_SEND_FAST_ZERO");
  }
  const std::uint64_t at = ctx.scratch_offset(e.size);
  const std::string required =
      "without NBD_FLAG_SEND_FAST_ZERO, WRITE_ZEROES never fails with NBD_ENOTSUP [S-TX-059] and "
      "NBD_CMD_FLAG_FAST_ZERO is refused with NBD_EINVAL [S-TX-060]";
  const TransmissionReply plain = round_trip(e.probe, NBD_CMD_WRITE_ZEROES, 0, at, kBlock);
  if (plain.error() == NBD_ENOTSUP) {
    return ctx.fail("NBD_CMD_WRITE_ZEROES without flags failed with NBD_ENOTSUP", required);
  }
  TransmissionReply fast;
  try {
    fast = round_trip(e.probe, NBD_CMD_WRITE_ZEROES, NBD_CMD_FLAG_FAST_ZERO, at, kBlock);
  } catch (const ProbeError& err) {
    if (err.kind() != ProbeError::Kind::Closed) throw;
    return ctx.pass("the server ended the session (FAST_ZERO unadvertised breaks C-TX-013)");
  }
  if (fast.error() != NBD_EINVAL) {
    return ctx.fail(
        "NBD_CMD_WRITE_ZEROES with NBD_CMD_FLAG_FAST_ZERO, which the export does not "
        "advertise, got a " +
            fast.describe(),
        required);
  }
  return ctx.pass();
}

// S-TX-056, S-TX-057 (proto.md "NBD_CMD_WRITE_ZEROES"): with
// NBD_CMD_FLAG_FAST_ZERO a server that refuses to zero quickly answers
// NBD_ENOTSUP and leaves the data as it was (tried with and without
// NO_HOLE, on written data), and never answers NBD_EOVERFLOW, however long
// the request: one beyond the maximum payload and reaching past the end
// (so that nothing changes, whatever the answer) comes last, since it
// breaks a client MUST (C-SZ-012) and the session may end with it.
Outcome fast_zero(CheckContext& ctx) {
  OpenExport e = ctx.open_export();
  require_writable(e);
  require_flag(e, NBD_FLAG_SEND_FAST_ZERO, "NBD_FLAG_SEND_FAST_ZERO");
  const std::uint64_t at = ctx.scratch_offset(e.size);
  // What the region holds, as a READ reply stands for it.
  const auto region = [&](const std::string& what) {
    const RequestHeader request = e.probe.send_request(NBD_CMD_READ, 0, at, kBlock);
    const TransmissionReply reply = e.probe.read_reply(request);
    require_success(reply, what);
    return read_content(request, reply);
  };
  std::string seen;
  for (const std::uint16_t flags : {std::uint16_t(NBD_CMD_FLAG_FAST_ZERO | NBD_CMD_FLAG_NO_HOLE),
                                    std::uint16_t(NBD_CMD_FLAG_FAST_ZERO)}) {
    require_success(write_data(e.probe, at, test_pattern(kBlock, 10)), "writing the test data");
    const auto before = region("reading the test data");
    const TransmissionReply z = round_trip(e.probe, NBD_CMD_WRITE_ZEROES, flags, at, kBlock);
    const std::string what = "NBD_CMD_WRITE_ZEROES with " + describe_command_flags(flags);
    seen += (seen.empty() ? "" : "; ") + what + ": " + z.describe();
    if (z.error() != NBD_ENOTSUP) continue;
    if (region("reading the range back") != before) {
      return ctx.fail(what + " failed with NBD_ENOTSUP but changed the data",
                      "a fast zero refused with NBD_ENOTSUP leaves the export's contents as they "
                      "were [S-TX-057]");
    }
  }
  const std::uint64_t length =
      std::min<std::uint64_t>(payload_limit(ctx) + kBlock, 0xffffffffu & ~(kBlock - 1));
  TransmissionReply r;
  try {
    r = round_trip(e.probe, NBD_CMD_WRITE_ZEROES, NBD_CMD_FLAG_FAST_ZERO, near_end(e), length);
  } catch (const ProbeError& err) {
    if (err.kind() != ProbeError::Kind::Closed) throw;
    return ctx.pass(seen + "; the long request ended the session");
  }
  if (r.error() == NBD_EOVERFLOW) {
    return ctx.fail("NBD_CMD_WRITE_ZEROES with NBD_CMD_FLAG_FAST_ZERO of " +
                        std::to_string(length) + " bytes was refused with NBD_EOVERFLOW",
                    "a fast zero never fails with NBD_EOVERFLOW, whatever its length [S-TX-056]");
  }
  return ctx.pass(seen + "; " + std::to_string(length) + " bytes: " + r.describe());
}

// S-TX-012 (proto.md "Terminating the transmission phase"): the server ends
// a session only on NBD_CMD_DISC, a client's breach of a MUST or its own
// shutdown. Zero-length requests (which a client only SHOULD NOT send) and
// an unknown command type (which no MUST forbids) are neither: each is
// answered, and a READ after them is served.
Outcome stays_connected(CheckContext& ctx) {
  OpenExport e = ctx.open_export();
  const bool writable = !(e.flags & NBD_FLAG_READ_ONLY);
  const std::uint64_t at = writable ? ctx.scratch_offset(e.size) : 0;
  struct Request {
    std::uint16_t type;
    const char* what;
  };
  std::vector<Request> requests = {{NBD_CMD_READ, "a zero-length NBD_CMD_READ"}};
  if (writable) requests.push_back({NBD_CMD_WRITE, "a zero-length NBD_CMD_WRITE"});
  if (writable && (e.flags & NBD_FLAG_SEND_TRIM)) {
    requests.push_back({NBD_CMD_TRIM, "a zero-length NBD_CMD_TRIM"});
  }
  if (writable && (e.flags & NBD_FLAG_SEND_WRITE_ZEROES)) {
    requests.push_back({NBD_CMD_WRITE_ZEROES, "a zero-length NBD_CMD_WRITE_ZEROES"});
  }
  if (e.flags & NBD_FLAG_SEND_CACHE) {
    requests.push_back({NBD_CMD_CACHE, "a zero-length NBD_CMD_CACHE"});
  }
  requests.push_back({kUnassignedCommand, "an unknown command type"});
  requests.push_back({NBD_CMD_READ, "the READ after them"});
  const std::string required =
      "the server ends a session only on NBD_CMD_DISC, a client's breach of a MUST or its own "
      "shutdown: not on zero-length requests or an unknown command [S-TX-012]";
  for (const Request& request : requests) {
    const bool last = &request == &requests.back();
    try {
      round_trip(e.probe, request.type, 0, last ? 0 : at, last ? std::min(e.size, kBlock) : 0);
    } catch (const ProbeError& err) {
      if (err.kind() != ProbeError::Kind::Closed) throw;
      return ctx.fail(std::string(request.what) + " made the server close the connection",
                      required);
    }
  }
  return ctx.pass();
}

// S-TX-041 (proto.md "NBD_CMD_DISC").
Outcome disc_no_reply(CheckContext& ctx) {
  OpenExport e = ctx.open_export();
  e.probe.send_request(NBD_CMD_DISC, 0, 0, 0);
  const ByteChannel::CloseWait wait = e.probe.channel().await_close(std::chrono::seconds(3));
  const std::string required =
      "NBD_CMD_DISC gets no reply; the server closes the connection [S-TX-041]";
  if (!wait.bytes.empty()) {
    return ctx.fail(
        "the server sent " + std::to_string(wait.bytes.size()) + " bytes after NBD_CMD_DISC",
        required);
  }
  if (!wait.closed) return ctx.fail("the connection stayed open after NBD_CMD_DISC", required);
  return ctx.pass();
}

// S-TX-040 (proto.md "NBD_CMD_DISC": the server handles every outstanding
// request before closing). A request counts as handled when the server
// either does it (the data is there for a new connection) or answers it
// with an error (nbdkit fails writes still queued with NBD_ESHUTDOWN, as
// "Terminating the transmission phase" allows for a server shutting down);
// dropping it silently is the failure.
Outcome disc_completes_writes(CheckContext& ctx) {
  if (!ctx.target().persistent()) {
    return ctx.not_applicable("each connection starts its own server: data does not outlive it");
  }
  const auto data = test_pattern(kBlock, 6);
  std::uint64_t at = 0;
  {
    OpenExport e = ctx.open_export();
    require_writable(e);
    at = ctx.scratch_offset(e.size);
    // Other data first, so that what an earlier run left cannot pass for
    // this run's write.
    require_success(write_data(e.probe, at, test_pattern(kBlock, 60)),
                    "writing the region's old data");
    const auto request = e.probe.send_request(NBD_CMD_WRITE, 0, at, data.size(), data);
    e.probe.send_request(NBD_CMD_DISC, 0, 0, 0);
    try {
      const TransmissionReply reply = e.probe.read_reply(request);
      if (reply.error() != 0) {
        return ctx.pass("the outstanding write was answered with " + reply.describe());
      }
      e.probe.channel().await_close(std::chrono::seconds(3));
    } catch (const ProbeError& err) {
      // Closed without a reply: the write must then have been done.
      if (err.kind() != ProbeError::Kind::Closed) throw;
    }
  }
  OpenExport again = ctx.open_export();
  const TransmissionReply r = round_trip(again.probe, NBD_CMD_READ, 0, at, kBlock);
  require_success(r, "reading the data back on a new connection");
  if (r.data != data) {
    return ctx.fail(
        "a new connection reads other data than the NBD_CMD_WRITE sent just before "
        "NBD_CMD_DISC, which got no error reply",
        "on NBD_CMD_DISC the server handles every outstanding request (does it or "
        "answers it) before closing [S-TX-040]");
  }
  return ctx.pass();
}

// S-TX-017 (proto.md "Transmission flags": NBD_FLAG_READ_ONLY).
Outcome read_only_refuses_writes(CheckContext& ctx) {
  OpenExport e = ctx.open_export();
  require_read_only(e);
  const std::uint64_t length = std::min(e.size, kBlock);
  const TransmissionReply before = round_trip(e.probe, NBD_CMD_READ, 0, 0, length);
  require_success(before, "reading the export's start");
  std::vector<std::pair<std::uint16_t, const char*>> commands = {{NBD_CMD_WRITE, "NBD_CMD_WRITE"}};
  if (e.flags & NBD_FLAG_SEND_TRIM) commands.push_back({NBD_CMD_TRIM, "NBD_CMD_TRIM"});
  if (e.flags & NBD_FLAG_SEND_WRITE_ZEROES) {
    commands.push_back({NBD_CMD_WRITE_ZEROES, "NBD_CMD_WRITE_ZEROES"});
  }
  const std::string required =
      "on a read-only export every write-type request fails and the data stays [S-TX-017]";
  const auto data = test_pattern(static_cast<std::size_t>(length), 7);
  for (const auto& command : commands) {
    const TransmissionReply r = command.first == NBD_CMD_WRITE
                                    ? write_data(e.probe, 0, data)
                                    : round_trip(e.probe, command.first, 0, 0, length);
    if (r.error() == 0) {
      return ctx.fail(std::string(command.second) + " on a read-only export succeeded", required);
    }
  }
  const TransmissionReply after = round_trip(e.probe, NBD_CMD_READ, 0, 0, length);
  require_success(after, "reading the export's start again");
  if (after.data != before.data) {
    return ctx.fail("the data changed although every write was refused", required);
  }
  return ctx.pass();
}

// S-ERR-008, S-ERR-002 (proto.md "Error values", "NBD_CMD_WRITE_ZEROES").
Outcome read_only_eperm(CheckContext& ctx) {
  OpenExport e = ctx.open_export();
  require_read_only(e);
  const std::uint64_t length = std::min(e.size, kBlock);
  const std::string required =
      "write, trim and write zeroes on a read-only export fail with NBD_EPERM [S-ERR-008, "
      "S-ERR-002]";
  const TransmissionReply w =
      write_data(e.probe, 0, test_pattern(static_cast<std::size_t>(length), 8));
  if (w.error() != NBD_EPERM) return ctx.fail("NBD_CMD_WRITE got a " + w.describe(), required);
  if (e.flags & NBD_FLAG_SEND_TRIM) {
    const TransmissionReply t = round_trip(e.probe, NBD_CMD_TRIM, 0, 0, length);
    if (t.error() != NBD_EPERM) return ctx.fail("NBD_CMD_TRIM got a " + t.describe(), required);
  }
  if (e.flags & NBD_FLAG_SEND_WRITE_ZEROES) {
    const TransmissionReply z = round_trip(e.probe, NBD_CMD_WRITE_ZEROES, 0, 0, length);
    if (z.error() != NBD_EPERM) {
      return ctx.fail("NBD_CMD_WRITE_ZEROES got a " + z.describe(), required);
    }
  }
  return ctx.pass();
}

}  // namespace

void add_transmission_checks(Catalogue& c) {
  const std::string area = "transmission";
  c.add({"tx.read-simple",
         area,
         {"S-TX-001", "S-TX-029", "S-TX-031", "S-SR-002", "S-INT-008"},
         Level::Must,
         "without structured replies NBD_CMD_READ gets a simple reply with the data",
         &read_simple});
  c.add({"tx.write-read-back",
         area,
         {"S-TX-037", "S-INT-008"},
         Level::Must,
         "data written is read back after the write's reply",
         &write_read_back});
  c.add({"tx.flush-and-fua-offered",
         area,
         {"S-INT-012"},
         Level::Should,
         "a writable export offers NBD_CMD_FLUSH and NBD_CMD_FLAG_FUA",
         &flush_and_fua_offered});
  c.add({"tx.advertised-commands-work",
         area,
         {"S-TX-014"},
         Level::MustNot,
         "every advertised command (FLUSH, FUA writes, TRIM, WRITE_ZEROES) works",
         &advertised_commands_work});
  c.add({"tx.write-zeroes-reads-zero",
         area,
         {"S-TX-051"},
         Level::Must,
         "after NBD_CMD_WRITE_ZEROES the range reads as zeroes",
         &write_zeroes_reads_zero});
  c.add({"tx.fua-accepted-everywhere",
         area,
         {"S-TX-025"},
         Level::Must,
         "with NBD_FLAG_SEND_FUA, FUA on READ and FLUSH is accepted",
         &fua_accepted_everywhere});
  c.add({"tx.no-hole-accepted",
         area,
         {"S-TX-027"},
         Level::Must,
         "NBD_CMD_WRITE_ZEROES accepts NBD_CMD_FLAG_NO_HOLE",
         &no_hole_accepted});
  c.add({"tx.zeroes-without-fast-zero",
         area,
         {"S-TX-055"},
         Level::MustNot,
         "NBD_CMD_WRITE_ZEROES without FAST_ZERO never fails with NBD_ENOTSUP",
         &zeroes_without_fast_zero});
  c.add({"tx.read-past-end",
         area,
         {"S-ERR-005", "S-SZ-020"},
         Level::Should,
         "a read past the end fails with NBD_EINVAL",
         &read_past_end});
  c.add({"tx.write-past-end",
         area,
         {"S-ERR-003"},
         Level::Should,
         "a write past the end fails with NBD_ENOSPC",
         &write_past_end});
  c.add({"tx.trim-past-end",
         area,
         {"S-ERR-006"},
         Level::Should,
         "a trim past the end fails with NBD_EINVAL",
         &trim_past_end});
  c.add({"tx.write-zeroes-past-end",
         area,
         {"S-ERR-001"},
         Level::Should,
         "write zeroes past the end fails with NBD_ENOSPC",
         &write_zeroes_past_end});
  c.add({"tx.zero-length-requests",
         area,
         {"S-TX-030", "S-TX-036", "S-TX-044", "S-TX-050"},
         Level::ShouldNot,
         "zero-length READ, WRITE, TRIM and WRITE_ZEROES do not disconnect",
         &zero_length_requests});
  c.add({"tx.unknown-command",
         area,
         {"S-ERR-011"},
         Level::Should,
         "an unknown command fails with NBD_EINVAL and the connection stays usable",
         &unknown_command});
  c.add({"tx.unknown-command-flag",
         area,
         {"S-ERR-012"},
         Level::Should,
         "an unknown command flag fails with NBD_EINVAL",
         &unknown_command_flag});
  c.add({"tx.inapplicable-command-flag",
         area,
         {"S-ERR-013"},
         Level::Should,
         "NBD_CMD_FLAG_REQ_ONE on NBD_CMD_READ fails with NBD_EINVAL",
         &inapplicable_command_flag});
  c.add({"tx.error-values-defined",
         area,
         {"S-ERR-015"},
         Level::Must,
         "error replies use only the defined error values",
         &error_values_defined});
  c.add({"tx.error-values-where-allowed",
         area,
         {"S-ERR-009", "S-ERR-010"},
         Level::ShouldNot,
         "NBD_EOVERFLOW and NBD_ENOTSUP refuse only the requests they are defined for",
         &error_values_where_allowed});
  c.add({"tx.failed-requests-carry-errors",
         area,
         {"S-TX-032", "S-TX-039", "S-TX-062"},
         Level::Must,
         "a READ, WRITE or WRITE_ZEROES past the end gets a nonzero, defined error",
         &failed_requests_carry_errors});
  c.add({"tx.failed-read-no-payload",
         area,
         {"S-TX-034"},
         Level::MustNot,
         "no data follows the simple reply to a failed READ",
         &failed_read_no_payload});
  c.add({"tx.cache-unknown-flag",
         area,
         {"S-TX-049", "S-TX-045"},
         Level::Must,
         "with NBD_FLAG_SEND_CACHE, NBD_CMD_CACHE with an unknown flag fails with a defined error",
         &cache_unknown_flag});
  c.add({"tx.fast-zero-unadvertised",
         area,
         {"S-TX-059", "S-TX-060"},
         Level::Should,
         "without NBD_FLAG_SEND_FAST_ZERO, no NBD_ENOTSUP; FAST_ZERO is refused with NBD_EINVAL",
         &fast_zero_unadvertised});
  c.add({"tx.fast-zero",
         area,
         {"S-TX-056", "S-TX-057"},
         Level::ShouldNot,
         "FAST_ZERO refused with NBD_ENOTSUP changes nothing, and is never refused with "
         "NBD_EOVERFLOW",
         &fast_zero});
  c.add({"tx.stays-connected",
         area,
         {"S-TX-012"},
         Level::MustNot,
         "zero-length requests and an unknown command do not end the session",
         &stays_connected});
  c.add({"tx.disc-no-reply",
         area,
         {"S-TX-041"},
         Level::MustNot,
         "NBD_CMD_DISC gets no reply and the server closes the connection",
         &disc_no_reply});
  c.add({"tx.disc-completes-writes",
         area,
         {"S-TX-040"},
         Level::Must,
         "a write sent just before NBD_CMD_DISC is done, or answered with an error",
         &disc_completes_writes});
  c.add({"tx.read-only-refuses-writes",
         area,
         {"S-TX-017"},
         Level::Must,
         "on a read-only export write, trim and write zeroes fail and leave the data",
         &read_only_refuses_writes});
  c.add({"tx.read-only-eperm",
         area,
         {"S-ERR-008", "S-ERR-002"},
         Level::Should,
         "on a read-only export write-type requests fail with NBD_EPERM",
         &read_only_eperm});
}

}  // namespace nbdref::conform
