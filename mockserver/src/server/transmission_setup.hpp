// Everything the transmission phase needs from the handshake: the export,
// the flags it was announced with, the reply form and the selected context.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "server/negotiation.hpp"
#include "server/reply_writer.hpp"
#include "server/serve_config.hpp"

namespace nbdref::mock {

struct TransmissionSetup {
  ServedExport exported;
  std::uint16_t transmission_flags = 0;
  ReplyStyle replies = ReplyStyle::Simple;
  // base:allocation's id when it was selected for this export.
  std::optional<std::uint32_t> allocation_context;
  // The rule the server breaks on purpose (ServeConfig::fault).
  script::ServeFault fault = script::ServeFault::None;

  bool extended_requests() const { return replies == ReplyStyle::Extended; }
  bool has(std::uint16_t flag) const { return (transmission_flags & flag) != 0; }
};

// The setup after NBD_OPT_GO or NBD_OPT_EXPORT_NAME chose `e` by `export_name`,
// for a server with `fault`.
TransmissionSetup transmission_setup(const ServedExport& e, std::string_view export_name,
                                     const Negotiation& n, script::ServeFault fault);

}  // namespace nbdref::mock
