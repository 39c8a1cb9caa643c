// nbdref-mock run as its users run it: a child process listening on a Unix
// socket in a private directory, playing one script for every connection,
// stopped when the object goes away.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

namespace nbdref::test {

class MockProcess {
 public:
  // Starts `nbdref-mock --unix SOCKET --connections 0 EXTRA... SCRIPT` (a
  // later --connections in EXTRA wins) and
  // waits (at most 10 s) until the socket accepts; throws
  // std::runtime_error with the program's output when it does not.
  explicit MockProcess(const std::string& script, std::vector<std::string> extra_args = {});

  const std::string& socket() const { return socket_; }
  // nbd+unix:///EXPORT?socket=SOCKET
  std::string uri(const std::string& export_name = "") const;
  // What nbdref-mock printed (verdicts, one line per connection).
  std::string output() const { return child_.output(); }
  // A file in the private directory.
  std::string file(const std::string& name) const { return dir_.file(name); }
  // The exit status once the program has ended by itself within `limit`
  // (after serving the connections it was told to); empty otherwise.
  std::optional<int> exit_status_within(std::chrono::milliseconds limit);

 private:
  TempDir dir_;
  std::string socket_;
  ChildProcess child_;
};

}  // namespace nbdref::test
