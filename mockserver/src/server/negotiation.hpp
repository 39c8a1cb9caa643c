// What option haggling has agreed on so far (proto.md "Option types").
#pragma once

#include <cstdint>
#include <string>

namespace nbdref::mock {

struct Negotiation {
  std::uint32_t client_flags = 0;
  bool structured_replies = false;
  bool extended_headers = false;  // takes precedence over structured replies
  // Whether the last NBD_OPT_SET_META_CONTEXT selected base:allocation, and
  // the export name it named: block status is only for that export (C-BS-010).
  bool allocation_selected = false;
  std::string context_export;

  // Whether transmission replies may carry chunks (structured or extended).
  bool reply_payloads() const { return structured_replies || extended_headers; }
};

}  // namespace nbdref::mock
