#include "handle/handle_state.hpp"

namespace nbdref::handle {

const char* state_name(HandleState s) {
  switch (s) {
    case HandleState::Created:
      return "created";
    case HandleState::Connecting:
      return "connecting";
    case HandleState::Negotiating:
      return "negotiating";
    case HandleState::Ready:
      return "ready";
    case HandleState::Processing:
      return "processing";
    case HandleState::Dead:
      return "dead";
    case HandleState::Closed:
      return "closed";
  }
  return "unknown";
}

}  // namespace nbdref::handle
