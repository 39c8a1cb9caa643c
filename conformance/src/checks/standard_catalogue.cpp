#include "checks/standard_catalogue.hpp"

#include "checks/areas.hpp"

namespace nbdref::conform {

const Catalogue& standard_catalogue() {
  static const Catalogue catalogue = [] {
    Catalogue c;
    add_handshake_checks(c);
    add_option_checks(c);
    add_meta_context_checks(c);
    add_transmission_checks(c);
    add_tls_checks(c);
    add_structured_reply_checks(c);
    add_block_status_checks(c);
    add_size_constraint_checks(c);
    add_extended_header_checks(c);
    add_integrity_checks(c);
    add_robustness_checks(c);
    return c;
  }();
  return catalogue;
}

}  // namespace nbdref::conform
