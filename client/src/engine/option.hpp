// A negotiation-phase option as the engine's caller asks for it (libnbd's
// nbd_opt_* calls), and the listener through which its results come back.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "error/error.hpp"

namespace nbdref::engine {

enum class OptionKind {
  ExtendedHeaders,  // NBD_OPT_EXTENDED_HEADERS
  StructuredReply,  // NBD_OPT_STRUCTURED_REPLY
  SetMetaContext,   // NBD_OPT_SET_META_CONTEXT
  ListMetaContext,  // NBD_OPT_LIST_META_CONTEXT
  Go,               // SET_META_CONTEXT when contexts are wanted, then NBD_OPT_GO
  Info,             // SET_META_CONTEXT when contexts are wanted, then NBD_OPT_INFO
  List,             // NBD_OPT_LIST
  Abort,            // NBD_OPT_ABORT
  StartTls,         // NBD_OPT_STARTTLS, then the TLS handshake (Connection::tls_requested)
};

class OptionListener {
 public:
  virtual ~OptionListener() = default;
  virtual void on_export(std::string_view name, std::string_view description) {
    (void)name, (void)description;
  }
  virtual void on_context(std::string_view name) { (void)name; }
  // Exactly once per option: success, or the server's refusal.
  virtual void on_option_complete(const Result<void>& result) = 0;
};

struct OptionRequest {
  OptionKind kind = OptionKind::Go;
  std::vector<std::string>
      queries;  // ListMetaContext/SetMetaContext; empty = the configured contexts
  OptionListener* listener = nullptr;
};

}  // namespace nbdref::engine
