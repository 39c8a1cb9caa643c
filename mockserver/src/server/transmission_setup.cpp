#include "server/transmission_setup.hpp"

#include "server/meta_context.hpp"
#include "wire/constants.hpp"

namespace nbdref::mock {

using namespace wire;

TransmissionSetup transmission_setup(const ServedExport& e, std::string_view export_name,
                                     const Negotiation& n, script::ServeFault fault) {
  using script::ServeFault;
  TransmissionSetup s;
  s.exported = e;
  s.fault = fault;
  s.transmission_flags = e.config.transmission_flags(n.reply_payloads());
  if (fault == ServeFault::FlagsWithoutHasFlags) s.transmission_flags &= ~NBD_FLAG_HAS_FLAGS;
  if (fault == ServeFault::DfWithoutStructuredReplies) s.transmission_flags |= NBD_FLAG_SEND_DF;
  if (fault == ServeFault::FastZeroWithoutWriteZeroes) {
    s.transmission_flags |= NBD_FLAG_SEND_FAST_ZERO;
  }
  s.replies = n.extended_headers     ? ReplyStyle::Extended
              : n.structured_replies ? ReplyStyle::Structured
                                     : ReplyStyle::Simple;
  if (fault == ServeFault::BlockStatusPayloadWithoutContexts && n.extended_headers) {
    s.transmission_flags |= NBD_FLAG_BLOCK_STATUS_PAYLOAD;
  }
  if (fault == ServeFault::BlockStatusPayloadUnnegotiated && !n.extended_headers) {
    s.transmission_flags |= NBD_FLAG_BLOCK_STATUS_PAYLOAD;
  }
  if (fault == ServeFault::StructuredRepliesUnnegotiated && s.replies == ReplyStyle::Simple) {
    s.replies = ReplyStyle::Structured;
  }
  // C-BS-010: contexts count only when set for the very name used to enter
  // transmission.
  if (n.allocation_selected && n.context_export == export_name) {
    s.allocation_context = BASE_ALLOCATION_ID;
  }
  return s;
}

}  // namespace nbdref::mock
