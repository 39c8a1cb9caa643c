// A failure while talking to the server, worded for the person running the
// tool: what the tool was doing, then what went wrong and the errno text.
#pragma once

#include <stdexcept>
#include <string>

#include <nbdref/client.hpp>

namespace nbdref::info {

class StepError : public std::runtime_error {
 public:
  // A failure the tool itself noticed in what the server answered.
  using std::runtime_error::runtime_error;
  // "WHAT: DETAIL", where DETAIL is the library's message; the errno text is
  // appended when the library's message does not already say it.
  StepError(const std::string& what, const ClientError& cause);
};

// "export 'NAME'", the way every message names an export.
std::string export_label(const std::string& name);

// Runs `step` and returns its result; a ClientError it throws becomes a
// StepError naming `what`.
template <class Step>
auto while_doing(const std::string& what, Step&& step) -> decltype(step()) {
  try {
    return step();
  } catch (const ClientError& e) {
    throw StepError(what, e);
  }
}

}  // namespace nbdref::info
