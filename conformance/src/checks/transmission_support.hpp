// What the checks of structured replies, block status, size constraints,
// extended headers and data integrity share: requests and their replies,
// test data, the preconditions a check needs, entering the transmission
// phase with extended headers, and the rules every structured or extended
// reply obeys (proto.md "Structured reply chunk message", "Structured reply
// types", "NBD_CMD_READ"; the extended-headers text).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "probe/messages.hpp"
#include "probe/probe.hpp"
#include "runner/check_context.hpp"
#include "wire/chunk.hpp"
#include "wire/option_reply.hpp"
#include "wire/request.hpp"

namespace nbdref::conform {

// Bytes a check reads or writes at a time: within the maximum payload of
// any server that follows S-SZ-014 (at least 1 MiB for an export that
// large); larger transfers go in pieces of at most payload_limit().
inline constexpr std::uint64_t kTestBlock = 4096;

// Data no server would hold by chance: varies with the seed and the offset.
std::vector<std::uint8_t> test_pattern(std::size_t length, std::size_t seed);
bool all_zero(std::span<const std::uint8_t> bytes);

// send_request then read_reply.
TransmissionReply round_trip(Probe& probe, std::uint16_t type, std::uint16_t flags,
                             std::uint64_t offset, std::uint64_t length,
                             std::span<const std::uint8_t> payload = {});
TransmissionReply write_data(Probe& probe, std::uint64_t offset,
                             const std::vector<std::uint8_t>& data, std::uint16_t flags = 0);

// The most a WRITE (or a READ with simple replies) may carry: the maximum
// payload NBD_INFO_BLOCK_SIZE advertises (asked for with NBD_OPT_INFO on a
// connection of its own; taken as stated, at least 512), or the default
// 32 MiB when none is advertised (proto.md "Size constraints"). A client
// must not exceed it (C-SZ-008).
std::uint64_t payload_limit(CheckContext& ctx);
// `data` written at `offset` in WRITEs of at most `limit` bytes, one after
// another; the first reply that reports an error, else the last reply.
TransmissionReply write_in_pieces(Probe& probe, std::uint64_t offset,
                                  const std::vector<std::uint8_t>& data, std::uint64_t limit);
// `length` bytes at `offset` read with simple replies in READs of at most
// `limit` bytes: a reply holding all the data, or the first that reports
// an error.
TransmissionReply read_in_pieces(Probe& probe, std::uint64_t offset, std::uint64_t length,
                                 std::uint64_t limit);

// Preconditions: each aborts the check as not applicable (or, for a
// request that must succeed for the check to mean anything, as an error:
// a refused request breaks no rule by itself).
void require_writable(const OpenExport& e);
void require_flag(const OpenExport& e, std::uint16_t flag, const char* name);
void require_success(const TransmissionReply& reply, const std::string& what);

// A fresh connection in the transmission phase with NBD_OPT_EXTENDED_HEADERS
// acknowledged (and `meta_contexts` selected); not applicable when the
// server refuses extended headers or selects none of the contexts.
OpenExport open_extended_export(CheckContext& ctx, const std::vector<std::string>& meta_contexts);

// The ids the server gave to `queries` in NBD_OPT_SET_META_CONTEXT, as
// OpenExport does not keep them: a connection with structured replies (or
// extended headers) and the contexts selected, in transmission. A reply
// giving one context or one id twice aborts the check as a failure of
// S-BS-037: no status reply can be judged against such a selection.
struct ContextExport {
  OpenExport open;
  std::vector<std::pair<std::uint32_t, std::string>> contexts;  // id, name
};
ContextExport open_context_export(CheckContext& ctx, const std::vector<std::string>& queries,
                                  bool extended);

// The NBD_INFO_BLOCK_SIZE the server gives to NBD_OPT_INFO when asked for
// it, on a connection of its own; nothing when it sends none.
std::optional<wire::InfoBlockSize> advertised_block_size(CheckContext& ctx);

// The first rule a reply to `request` breaks, with its clause id in
// brackets, or nothing, judged by what was negotiated: with extended
// headers every message must be an extended chunk (X-S-004, X-S-005,
// X-S-006, X-B-001); otherwise chunks are structured. Checked: simple replies to READ (S-SR-004),
// flags other than DONE (S-SR-016), NONE only as a DONE chunk of length 0 (S-SR-015, S-SR-018,
// S-SR-019), content chunks only for READ (S-SR-026), inside the request (S-SR-021), well formed
// (S-SR-020, S-SR-024, S-SR-025) and not overlapping (S-SR-022), status chunks only for
// BLOCK_STATUS in the negotiated form (S-SR-026, X-S-031, X-S-032) and well formed (S-BS-041,
// S-BS-042, X-S-034..036), error chunks well formed (S-SR-027, S-SR-028,
// S-SR-030, S-SR-031) with offsets inside the request (S-SR-032), only for
// the commands that allow them (S-SR-036) and after a content chunk
// covering the same offset (S-SR-051), and a successful READ covered
// without gaps (S-SR-045).
std::optional<std::string> reply_rule_problem(const wire::RequestHeader& request,
                                              const TransmissionReply& reply, bool structured,
                                              bool extended);
inline std::optional<std::string> reply_rule_problem(const wire::RequestHeader& request,
                                                     const TransmissionReply& reply,
                                                     const Probe& probe) {
  return reply_rule_problem(request, reply, probe.structured_replies(), probe.extended_headers());
}

// Aborts the check as a failure when reply_rule_problem() finds a problem:
// whatever a check looks at, a reply breaking the reply rules is the
// server's failure, named by its clause.
void require_valid_reply(const wire::RequestHeader& request, const TransmissionReply& reply,
                         const Probe& probe);

// The bytes a successful READ reply stands for: simple data, or the content
// chunks put together with holes as zeroes. The reply must have passed
// reply_rule_problem.
std::vector<std::uint8_t> read_content(const wire::RequestHeader& request,
                                       const TransmissionReply& reply);

// The status chunks of a BLOCK_STATUS reply, decoded (views into `reply`,
// which must outlive them). The reply must have passed reply_rule_problem.
std::vector<wire::BlockStatusView> status_chunks(const TransmissionReply& reply);

// "NBD_REPLY_TYPE_OFFSET_DATA at 0 (4096 bytes), NBD_REPLY_TYPE_NONE".
std::string describe_chunks(const TransmissionReply& reply);

}  // namespace nbdref::conform
