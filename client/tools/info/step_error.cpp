#include "step_error.hpp"

#include <cstring>

namespace nbdref::info {
namespace {

std::string describe(const std::string& what, const ClientError& cause) {
  std::string line = what + ": " + cause.what();
  // The library usually ends with the errno text already; saying it twice
  // would only make the line longer.
  const char* errno_text = std::strerror(cause.errnum());
  if (line.find(errno_text) == std::string::npos) line += " (" + std::string(errno_text) + ")";
  return line;
}

}  // namespace

std::string export_label(const std::string& name) {
  return "export '" + name + "'";
}

StepError::StepError(const std::string& what, const ClientError& cause)
    : std::runtime_error(describe(what, cause)) {}

}  // namespace nbdref::info
