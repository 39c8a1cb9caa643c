// The player's shared pieces (internal to server/): failures and how they
// name their step, the conversation the player follows, script arguments
// with their $variables resolved, and the output that cuts what is sent
// into fragments.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>
#include "script/step.hpp"
#include "script/vocabulary.hpp"
#include "server/channel.hpp"
#include "server/player.hpp"

namespace nbdref::mock::playback {

using script::Step;
using script::Value;

// The player reads at most this much option data or request payload: a
// client announcing more fails its expectation instead of making the player
// allocate it.
inline constexpr std::uint64_t MAX_READ = std::uint64_t{64} << 20;
// What sending steps assume when no size is given (and what serve's
// default export holds).
inline constexpr std::uint64_t DEFAULT_EXPORT_SIZE = std::uint64_t{64} << 20;

struct Failure {
  Verdict::Outcome outcome = Verdict::Outcome::ScriptError;
  std::string message;
  script::Location where;
};
template <class T>
using Result = tl::expected<T, Failure>;

// ---- naming steps and values in messages ----

// The step's words with its subjects: "expect option GO", "reply GO error UNSUP".
std::string step_head(const Step& step);
// "line 7: expect option GO" (without "line N: " for steps built in C++).
std::string step_prefix(const Step& step);
// A failure of `step`: "<prefix>: <what>".
tl::unexpected<Failure> fail(const Step& step, Verdict::Outcome outcome, const std::string& what);
// A failure about one argument as written: "<prefix> <key>=<value>: <what>".
tl::unexpected<Failure> fail_key(const Step& step, Verdict::Outcome outcome, std::string_view key,
                                 const std::string& what);

// A value as a script would write it (the script's own spelling when it
// has one): 4096, 0x25609513 for magics and cookies, FUA|DF, "disk",
// hex:00ff, 100ms, $c, *.
std::string render_value(const Value& v, const script::ValueSpec* spec, std::string_view key = {});
// Names and numbers as the protocol writes them.
std::string quote(std::string_view text);
std::string hex(std::uint64_t v);
std::string duration_text(std::chrono::milliseconds d);
std::string bytes_text(std::span<const std::uint8_t> b);  // "hex:00ff" or "<N bytes>"
std::string byte_count(std::uint64_t n);                  // "1 byte", "512 bytes"

// ---- the conversation ----

struct Binding {
  enum class Kind { Number, Text, Bytes };
  Kind kind = Kind::Number;
  std::uint64_t number = 0;
  std::vector<std::uint8_t> bytes;  // the text, for Text
};
using Variables = std::map<std::string, Binding, std::less<>>;

enum class Phase {
  BeforeGreeting,  // nothing sent yet
  Greeted,         // newstyle greeting sent; the client flags come next
  Options,         // option haggling
  Transmission,    // after export-name-reply, `reply GO ack`, or an oldstyle greeting
};
std::string_view phase_name(Phase p);

struct RequestSeen {
  std::uint16_t flags = 0;
  std::uint16_t type = 0;
  std::uint64_t cookie = 0;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

struct Conversation {
  Phase phase = Phase::BeforeGreeting;
  bool oldstyle = false;
  std::optional<std::uint16_t> greeting_flags;  // of the script's newstyle greeting
  std::optional<std::uint32_t> client_flags;    // read by expect client-flags
  std::optional<std::uint32_t> last_option;     // read by expect option
  std::optional<RequestSeen> last_request;      // read by expect request
  bool structured = false;                      // `reply STRUCTURED_REPLY ack` sent
  bool extended = false;                        // `reply EXTENDED_HEADERS ack` sent
  std::optional<std::uint32_t> allocation_id;   // base:allocation granted under this id
  std::string export_name;                      // of the last EXPORT_NAME, INFO or GO read
  Variables variables;
};

// ---- arguments ----

// The arguments of a sending or control step, with $variables resolved.
// Each accessor fails with a ScriptError naming the step when a variable
// was never captured, holds the wrong kind of value, or a number does not
// fit its field.
class Args {
 public:
  Args(const Step& step, const Variables& vars) : step_(step), vars_(vars) {}

  Result<std::uint64_t> number(std::string_view key, std::uint64_t fallback,
                               unsigned bits = 64) const;
  Result<std::optional<std::uint64_t>> maybe_number(std::string_view key, unsigned bits = 64) const;
  Result<std::uint64_t> subject_number(std::size_t index, unsigned bits = 64) const;
  Result<std::vector<std::uint8_t>> subject_bytes(std::size_t index) const;
  Result<std::string> text(std::string_view key, std::string fallback) const;
  Result<std::vector<std::uint8_t>> bytes(std::string_view key,
                                          std::vector<std::uint8_t> fallback) const;
  Result<bool> boolean(std::string_view key, bool fallback) const;
  std::optional<std::string> word(std::string_view key) const;
  std::chrono::milliseconds duration(std::string_view key,
                                     std::chrono::milliseconds fallback) const;
  const Value* raw(std::string_view key) const { return step_.arg(key); }
  bool has(std::string_view key) const { return step_.arg(key) != nullptr; }

 private:
  Result<std::uint64_t> resolve_number(const Value& v, const std::string& what,
                                       unsigned bits) const;
  Result<const Binding*> lookup(const Value& v, const std::string& what) const;

  const Step& step_;
  const Variables& vars_;
};

// ---- output ----

// Sleeps `d`; false when `stop` was requested first (at once, then).
bool sleep_for(std::chrono::milliseconds d, const std::stop_token& stop);

// What the server sends, straight to the channel or -- inside fragments
// blocks -- in pieces of the innermost block's size with its gap between
// pieces. A piece may span two messages: the tail of one message waits for
// the next, until flush() (before every read, pause and block end).
class Output {
 public:
  Output(Channel& channel, std::stop_token stop) : channel_(channel), stop_(std::move(stop)) {}

  // false, with `error`, when the client is gone or the player was stopped.
  bool send(std::span<const std::uint8_t> data, std::string& error);
  bool flush(std::string& error);
  // The caller flushes before beginning and ending a block.
  void begin_fragments(std::size_t piece, std::chrono::milliseconds gap);
  void end_fragments();
  bool fragmenting() const { return !blocks_.empty(); }

 private:
  bool write_piece(std::span<const std::uint8_t> piece, std::string& error);

  struct Block {
    std::size_t piece;
    std::chrono::milliseconds gap;
  };
  Channel& channel_;
  std::stop_token stop_;
  std::vector<Block> blocks_;
  std::vector<std::uint8_t> pending_;
  bool wrote_piece_ = false;  // the next piece waits for the gap first
};

}  // namespace nbdref::mock::playback
