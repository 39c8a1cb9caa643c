// The recorder's side of a connection to a server: a real one reached
// through a socket (usually nbdref-mock --relay in front of it), or a
// hostile script played in this process. Blocking writes, and reads that
// give up after a quiet spell, which is how a recording learns that the
// server has nothing more to say.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "transport/unique_fd.hpp"

namespace nbdref::fuzz::recorder {

class ServerLink {
 public:
  // Takes over a connected stream socket (blocking or not).
  explicit ServerLink(transport::UniqueFd socket);

  // What arrived within `quiet`: some bytes, an empty vector at the end of
  // the stream (or a reset), nullopt when nothing came in time.
  std::optional<std::vector<std::uint8_t>> receive(std::chrono::milliseconds quiet);
  // Sends everything; false when the server is gone.
  bool send(std::span<const std::uint8_t> bytes);

 private:
  transport::UniqueFd socket_;
};

}  // namespace nbdref::fuzz::recorder
