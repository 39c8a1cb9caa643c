// The states a handle goes through, as libnbd names them
// (nbd_aio_is_created ... nbd_aio_is_closed, nbd_connection_state).
#pragma once

namespace nbdref::handle {

enum class HandleState {
  Created,      // nothing attempted yet; settings may change
  Connecting,   // transport connecting, or the handshake in progress
  Negotiating,  // option mode, waiting for the caller's next option
  Ready,        // transmission, nothing in flight
  Processing,   // transmission, commands in flight
  Dead,         // ended by an error
  Closed,       // ended cleanly
};

const char* state_name(HandleState s);

}  // namespace nbdref::handle
