// Turns the caller's commands into requests on the wire (proto.md "Request
// message"), after the client-side checks of libnbd's strict mode and the
// spec's client requirements, so a bad request fails locally and never
// reaches the server.
#pragma once

#include "engine/connection_core.hpp"

namespace nbdref::engine {

class CommandIssuer {
 public:
  explicit CommandIssuer(ConnectionCore& core) : core_(core) {}

  // Queues the request and returns its cookie, or the reason it was refused
  // (EINVAL, EPERM, ENOTSUP, ERANGE, ENOTCONN, ESHUTDOWN).
  Result<std::uint64_t> submit(const CommandRequest& request);

  // Stops new commands and sends NBD_CMD_DISC once the ones in flight are
  // answered. With `abandon_pending`, commands not yet started on the wire
  // are dropped (completed with ECANCELED) instead of sent.
  Result<void> disconnect(bool abandon_pending);

 private:
  Result<void> check(const CommandRequest& r) const;
  void encode(const Command& c);

  ConnectionCore& core_;
};

}  // namespace nbdref::engine
