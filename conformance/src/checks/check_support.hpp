// What several areas' checks share: names no server gives to anything, the
// summary of a reply sequence, and the probe that a session is still in
// step after a check's request.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "probe/messages.hpp"
#include "probe/probe.hpp"
#include "probe/probe_error.hpp"
#include "runner/check_context.hpp"

namespace nbdref::conform {

// An option number far from every assigned one (1..11).
inline constexpr std::uint32_t kUnassignedOption = 0x4e425246;  // "NBRF"
// An export name no real server serves.
inline constexpr std::string_view kUnlikelyExportName = "nbdref-conform-no-such-export-7c1e";

// "NBD_REP_INFO, NBD_REP_INFO, NBD_REP_ACK".
std::string reply_types(const OptionReplies& replies);

// Sends NBD_OPT_INFO for the target's export and reads its replies: any
// well-framed answer shows that the server is still parsing options in
// step. A server that closes or answers out of step makes this throw the
// ProbeError that the runner turns into a failure; one that stays silent
// (waiting for bytes it wrongly counts as part of an earlier option) a
// CheckAbort failure saying so.
OptionReplies expect_in_step(CheckContext& ctx, Probe& probe);

// Runs `read` (a probe read of the answer to `what`) and turns a timeout
// into a CheckAbort failure: the server is silent, most likely still
// reading bytes it wrongly counts as part of an option.
template <class Read>
auto expect_answer(const std::string& what, Read read) -> decltype(read()) {
  try {
    return read();
  } catch (const ProbeError& e) {
    if (e.kind() != ProbeError::Kind::Timeout) throw;
    throw CheckAbort{Status::Fail, "no answer to " + what +
                                       " before the check's deadline: the server seems to wait "
                                       "for bytes beyond the declared option lengths"};
  }
}

// Reads the rest of a simple reply to `request` whose 4 magic bytes the
// check has already taken: the error, the cookie and, for a successful
// READ, the data. A check reads every reply in full before it closes: some
// servers (nbdkit 1.32 with -s) abort when a client leaves while they are
// still sending.
void finish_simple_reply(Probe& probe, const wire::RequestHeader& request);

// The first problem with transmission flags received after negotiating
// with (`structured`) or without structured replies, naming its clause:
// HAS_FLAGS must be set (S-TX-015), SEND_DF clear without structured replies
// (S-TX-019, X-S-009; S-SR-012, X-S-016 for features needing reply
// payloads), FAST_ZERO only with WRITE_ZEROES (S-TX-023), and
// BLOCK_STATUS_PAYLOAD, a request payload, clear without extended headers
// (X-S-010, X-S-027).
std::optional<std::string> transmission_flag_problem(std::uint16_t flags, bool structured);

}  // namespace nbdref::conform
