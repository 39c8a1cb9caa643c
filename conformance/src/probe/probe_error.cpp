#include "probe/probe_error.hpp"

namespace nbdref::conform {

ProbeError violation(const std::string& context, const wire::DecodeError& error) {
  return ProbeError(ProbeError::Kind::Violation, context + ": " + error.to_string(),
                    error.clause ? error.clause : "");
}

}  // namespace nbdref::conform
