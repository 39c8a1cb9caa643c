// Plays a script on one connection: sends what its steps send, reads and
// checks what the client sends against its expectations, and hands the rest
// of the connection to the RAM-disk server at `serve`. The result is a
// verdict: the script ran to its end, or which step failed and why.
//
// The player follows the conversation so scripts stay short: it knows which
// option was asked last (for option replies), which request came last (its
// cookie and offset are the defaults of replies and chunks), whether
// structured replies or extended headers were acknowledged (which header
// form expectations read and chunks use), and where the handshake stands
// when `serve` takes over.
#pragma once

#include <chrono>
#include <memory>
#include <stop_token>
#include <string>

#include "script/step.hpp"
#include "server/channel.hpp"
#include "server/export_store.hpp"
#include "server/transcript.hpp"

namespace nbdref::mock {

struct PlayOptions {
  // How long an expectation waits when its step gives no timeout=.
  std::chrono::milliseconds default_timeout{10'000};
  // Where the conversation is recorded; nullptr records nothing.
  Transcript* transcript = nullptr;
  // The disks `serve` uses, shared by the connections of one run so a
  // second connection sees what the first wrote; nullptr: fresh disks.
  std::shared_ptr<ExportStore> disks;
  // How long `serve` waits for the client's next bytes; 0: as long as the
  // connection stays open (the client's reads end it, or `stop`).
  std::chrono::milliseconds serve_idle_timeout{0};
  // A stop request ends pauses and fragment gaps at once and the play
  // before its next step (verdict ClientGone, "the player was stopped").
  // A read or write blocked on the channel is not woken by it: shut the
  // channel's descriptor down for that (InProcessServer does both).
  std::stop_token stop;
};

struct Verdict {
  enum class Outcome {
    Completed,    // every step ran (a `close` or `serve` included)
    Mismatch,     // an expectation was not met: the client sent something else
    Timeout,      // an expectation waited in vain
    ClientGone,   // the client closed or reset while a step still had to run
    ScriptError,  // the script cannot run: a $variable used before it was captured, ...
  };
  Outcome outcome = Outcome::Completed;
  // Empty when completed; otherwise the failing step's line, what it
  // expected and what the client sent: "line 7: expect option GO: the
  // client sent NBD_OPT_LIST (3)".
  std::string message;
  script::Location where;

  bool passed() const { return outcome == Outcome::Completed; }
  // "completed" or the message.
  std::string describe() const;
};

// Runs `script` on `channel` to the end; does not close the channel.
//
// The steps in short (vocabulary.hpp has every key and its default):
// - Sending steps encode their message from the conversation so far (the
//   last request's cookie and offset, the negotiated header forms, the
//   granted base:allocation id) and write it; a key naming a field
//   overrides it on the wire. A Number key or subject may be $name: the
//   value an earlier expectation captured (unbound: ScriptError).
// - Expectations read one message before their timeout= (default
//   options.default_timeout) and check the keys written; `*` accepts
//   anything, `$name` captures. The player reads at most 64 MiB of option
//   data or payload; a client announcing more fails the expectation.
// - `close` closes the channel and ends the play: later steps are not run
//   and the verdict is Completed. `serve` likewise ends the play once the
//   RAM-disk server is done: Completed when the session ended or the client
//   closed, Mismatch when the client broke the protocol.
// - `half-close` shuts the server's sending side; a sending step after it
//   is a ScriptError.
// - `fragments <n> { }` writes what its block sends in pieces of n bytes,
//   gap= apart; a piece may span messages, and what is held back goes out
//   before every expectation, pause, close and at the block's end.
Verdict play(const script::Script& script, Channel& channel, const PlayOptions& options = {});

}  // namespace nbdref::mock
