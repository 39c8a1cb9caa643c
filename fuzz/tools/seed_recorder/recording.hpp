// What one recording gives: the seed, in the exact input format of its
// fuzz target, or why there is none -- a conversation that did not get
// where the target starts, or one whose replay would not be the same
// conversation (then the seed would lie about what it holds).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/connection.hpp"
#include "engine/connection_core.hpp"

namespace nbdref::fuzz::recorder {

struct Recording {
  std::vector<std::uint8_t> seed;  // empty when there is none
  std::string problem;             // why there is none
  std::string summary;             // how the conversation ended, for the log

  bool ok() const { return problem.empty(); }
};

// Where a connection stopped, and why when it died: a summary, or part of
// a problem.
inline std::string ending(const engine::Connection& conn) {
  std::string text = engine::phase_name(conn.phase());
  if (conn.error()) text += ": " + conn.error()->message;
  return text;
}

}  // namespace nbdref::fuzz::recorder
