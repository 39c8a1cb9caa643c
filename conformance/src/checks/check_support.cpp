#include "checks/check_support.hpp"

#include "wire/bytes.hpp"
#include "wire/constants.hpp"

namespace nbdref::conform {

std::string reply_types(const OptionReplies& replies) {
  std::string out;
  for (const OptionReply& r : replies) {
    if (!out.empty()) out += ", ";
    const char* name = wire::option_reply_name(r.type);
    out += name ? name : "reply type " + std::to_string(r.type);
  }
  return out;
}

OptionReplies expect_in_step(CheckContext& ctx, Probe& probe) {
  return expect_answer("the following NBD_OPT_INFO",
                       [&] { return probe.request_info(wire::NBD_OPT_INFO, ctx.export_name()); });
}

void finish_simple_reply(Probe& probe, const wire::RequestHeader& request) {
  const auto rest = probe.channel().receive(12, "the rest of the simple reply");
  probe.transcript().received("the rest of the simple reply", rest);
  if (wire::load_be32(rest.data()) == 0 && request.type == wire::NBD_CMD_READ &&
      request.length > 0) {
    probe.transcript().received("read data", probe.channel().receive(request.length, "read data"));
  }
}

std::optional<std::string> transmission_flag_problem(std::uint16_t flags, bool structured) {
  using namespace wire;
  const std::string shown = " (flags " + describe_transmission_flags(flags) + ")";
  // S-TX-015 (proto.md "Transmission flags"): bit 0 is always set.
  if (!(flags & NBD_FLAG_HAS_FLAGS)) return "NBD_FLAG_HAS_FLAGS is clear" + shown + " [S-TX-015]";
  // S-TX-019, X-S-009: DF needs structured replies (or extended headers);
  // S-SR-012, X-S-016: no feature whose replies need payloads is
  // advertised before they are negotiated.
  if (!structured && (flags & NBD_FLAG_SEND_DF)) {
    return "NBD_FLAG_SEND_DF is set although structured replies were not negotiated" + shown +
           " [S-TX-019, X-S-009, S-SR-012, X-S-016]";
  }
  // S-TX-023: no fast zero without write zeroes.
  if ((flags & NBD_FLAG_SEND_FAST_ZERO) && !(flags & NBD_FLAG_SEND_WRITE_ZEROES)) {
    return "NBD_FLAG_SEND_FAST_ZERO is set without NBD_FLAG_SEND_WRITE_ZEROES" + shown +
           " [S-TX-023]";
  }
  // X-S-010, X-S-027: the block status payload, a request payload, needs
  // extended headers, which the probe did not negotiate here.
  if (flags & NBD_FLAG_BLOCK_STATUS_PAYLOAD) {
    return "NBD_FLAG_BLOCK_STATUS_PAYLOAD is set although extended headers were not negotiated" +
           shown + " [X-S-010, X-S-027]";
  }
  return std::nullopt;
}

}  // namespace nbdref::conform
