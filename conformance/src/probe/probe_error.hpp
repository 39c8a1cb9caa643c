// How a probe operation can end other than as the check expected: the
// server went quiet, closed the connection, sent bytes the protocol does not
// allow, or could not be reached. The runner turns each kind into an
// outcome (a timeout or an unreachable server is an error, a closed
// connection or a protocol violation a failure).
#pragma once

#include <stdexcept>
#include <string>

#include "wire/decode_error.hpp"

namespace nbdref::conform {

class ProbeError : public std::runtime_error {
 public:
  enum class Kind {
    Timeout,    // nothing (or not enough) arrived before the check's deadline
    Closed,     // the server closed or reset the connection
    Violation,  // the server sent something the specification forbids
    Io,         // a system call failed for another reason
    Connect,    // the server could not be reached or started
  };

  ProbeError(Kind kind, std::string message, std::string clause = {})
      : std::runtime_error(std::move(message)), kind_(kind), clause_(std::move(clause)) {}

  Kind kind() const { return kind_; }
  // The clause id a Violation breaks, when the decoder named one.
  const std::string& clause() const { return clause_; }

 private:
  Kind kind_;
  std::string clause_;
};

// A Violation from a wire decoder's error, prefixed with what was being read.
ProbeError violation(const std::string& context, const wire::DecodeError& error);

}  // namespace nbdref::conform
