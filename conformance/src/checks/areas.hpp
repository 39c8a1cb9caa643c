// The spec areas of the catalogue, one file each; every function adds its
// area's checks to the catalogue in the order they run.
#pragma once

#include "runner/catalogue.hpp"

namespace nbdref::conform {

void add_handshake_checks(Catalogue& catalogue);         // handshake.cpp
void add_option_checks(Catalogue& catalogue);            // options.cpp
void add_meta_context_checks(Catalogue& catalogue);      // meta_context.cpp
void add_transmission_checks(Catalogue& catalogue);      // transmission.cpp
void add_tls_checks(Catalogue& catalogue);               // tls.cpp
void add_structured_reply_checks(Catalogue& catalogue);  // structured_replies.cpp
void add_block_status_checks(Catalogue& catalogue);      // block_status.cpp
void add_size_constraint_checks(Catalogue& catalogue);   // size_constraints.cpp
void add_extended_header_checks(Catalogue& catalogue);   // extended_headers.cpp
void add_integrity_checks(Catalogue& catalogue);         // integrity.cpp
// Last: its checks may take the server down (Check::endangers_server).
void add_robustness_checks(Catalogue& catalogue);  // robustness.cpp

}  // namespace nbdref::conform
