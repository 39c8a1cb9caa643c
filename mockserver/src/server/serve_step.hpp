// The `serve` step (internal to server/): builds the RAM-disk server's
// configuration from the step and its export steps, starts a ServerSession
// where the conversation stands, and pumps bytes between it and the client
// until the session ends or the client leaves.
#pragma once

#include <chrono>
#include <stop_token>

#include "server/channel.hpp"
#include "server/export_store.hpp"
#include "server/play_support.hpp"
#include "server/serve_config.hpp"
#include "server/transcript.hpp"

namespace nbdref::mock::playback {

struct ServeContext {
  Channel& channel;
  Output& output;
  Transcript* transcript = nullptr;
  ExportStore* disks = nullptr;               // nullptr: fresh disks
  std::chrono::milliseconds idle_timeout{0};  // 0: wait for the client for as long as it takes
  std::stop_token stop;
};

// The configuration `step` describes (its export steps, or one 64 MiB export
// named ""), with disks from `disks` when given. Flags the script's own
// newstyle greeting already offered stand unless the step sets them.
Result<ServeConfig> serve_config(const Step& step, const Conversation& conversation,
                                 ExportStore* disks);

// Runs `step`. Completed when the session ended (NBD_OPT_ABORT, NBD_CMD_DISC,
// an export refused) and its last bytes were sent, or when the client closed
// the connection; a Mismatch when the client broke the protocol (the
// session's message, citing the clause); a ScriptError when the step cannot
// take over where the conversation stands.
Result<void> run_serve(const Step& step, const Conversation& conversation,
                       const ServeContext& context);

}  // namespace nbdref::mock::playback
