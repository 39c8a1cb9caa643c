// What nbdref-mock does with each connection it accepts: plays the script
// on it, or relays it to a real server (--relay). Either way one verdict
// line per connection goes to the verdict stream:
//   nbdref-mock: connection 2: FAILED: line 7: expect option GO: ...
//   nbdref-mock: connection 3: relayed 342 bytes from the client and 1290 from the server
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <ostream>

#include "relay/recording_relay.hpp"
#include "script/step.hpp"
#include "server/channel.hpp"
#include "server/player.hpp"

namespace nbdref::mock::cli {

struct Reporting {
  std::ostream* verdicts;    // one line per connection
  std::ostream* transcript;  // nullptr: none kept (scripts only)
  bool transcript_bytes = false;
};

// Plays the script from its start on each connection; connections share
// the run's RAM disks.
class ScriptConnections {
 public:
  ScriptConnections(const script::Script& script, std::chrono::milliseconds timeout,
                    Reporting reporting);
  // True when the client did what the script expected.
  bool play(Channel& channel, std::uint64_t number);

 private:
  const script::Script& script_;
  PlayOptions options_;
  Reporting reporting_;
  std::mutex mutex_;  // guards the report streams
};

// Relays each connection to the real server, recording it if asked.
class RelayConnections {
 public:
  RelayConnections(relay::RelayOptions options, std::ostream& verdicts);
  // True when the server was reached and both sides closed in order.
  bool relay(Channel& channel, std::uint64_t number);

 private:
  relay::RelayOptions options_;
  std::ostream& verdicts_;
  std::mutex mutex_;  // guards the verdict stream
};

}  // namespace nbdref::mock::cli
