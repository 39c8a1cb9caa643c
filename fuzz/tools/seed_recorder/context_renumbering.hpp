// Block status chunks name their meta context by the id the server chose
// when the context was negotiated (qemu-nbd counts from 0, nbdkit from 1,
// a script as it likes), while the transmission target's own handshake
// gives META_CONTEXT_NAMES[i] the id CONTEXT_IDS[i]. So that a recorded
// stream means in replay what it meant to the recording client, each
// context id in it is replaced by its counterpart under a one-to-one map:
// every negotiated id goes to the target's id for the same name, and ids
// nobody negotiated move out of the way, never onto one that is taken.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <vector>

#include "tracked_command.hpp"

namespace nbdref::fuzz::recorder {

class ContextIdMap {
 public:
  // From now on `from` maps to `to`; earlier pairs stay as they were (each
  // `from` and each `to` may be given once).
  void map(std::uint32_t from, std::uint32_t to);
  std::uint32_t operator()(std::uint32_t id) const;

 private:
  std::map<std::uint32_t, std::uint32_t> forward_;
  std::map<std::uint32_t, std::uint32_t> backward_;
};

// Rewrites the context id of every block status chunk in `stream`, the
// server's replies in transmission, walking them as a client would: a
// simple reply to a successful READ is followed by its data unless
// structured replies were negotiated; a chunk by its payload. A stretch
// that is no reply ends the walk (the engine gives up there too).
void renumber_contexts(std::vector<std::uint8_t>& stream,
                       const std::deque<TrackedCommand>& commands, bool structured_replies,
                       const ContextIdMap& ids);

}  // namespace nbdref::fuzz::recorder
