#include "server/transmission_setup.hpp"

#include "server/meta_context.hpp"

namespace nbdref::mock {

TransmissionSetup transmission_setup(const ServedExport& e, std::string_view export_name,
                                     const Negotiation& n) {
  TransmissionSetup s;
  s.exported = e;
  s.transmission_flags = e.config.transmission_flags(n.reply_payloads());
  s.replies = n.extended_headers     ? ReplyStyle::Extended
              : n.structured_replies ? ReplyStyle::Structured
                                     : ReplyStyle::Simple;
  // C-BS-010: contexts count only when set for the very name used to enter
  // transmission.
  if (n.allocation_selected && n.context_export == export_name) {
    s.allocation_context = BASE_ALLOCATION_ID;
  }
  return s;
}

}  // namespace nbdref::mock
