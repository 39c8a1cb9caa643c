// The `#@` lines at the top of a hostile-server script: what the client
// under test is told to do against that server, and what must come of it.
//
//   # One line saying what the server does wrong and what the spec requires.
//   #@ clauses C-HS-006 C-OPT-012
//   #@ set request-extended-headers=no opt-mode=yes meta-context=base:allocation
//   #@ do connect -> fails EPROTO "greeting magic"
//   #@ do aio-pread 0 512 x4 -> pending 300ms
//   #@ do await -> fails ECONNRESET "in flight"
//   #@ state dead
//   #@ verdict completed
//
// Settings (applied to the handle before connecting, in order):
//   request-structured-replies=yes|no  request-extended-headers=yes|no
//   opt-mode=yes|no  meta-context=NAME (repeatable)  strict=MASK
//   handshake-flags=N  export-name=NAME  full-info=yes|no
//   request-block-size=yes|no  tls=disable|allow|require
//
// Actions, run in the order written (`#@ state` lines are checks in that
// order too):
//   connect                     nbd_connect_socket on the script's socket
//   pread OFF LEN               nbd_pread              (flags=df|fua|req-one|...)
//   pwrite OFF LEN              nbd_pwrite of LEN zero bytes
//   flush / trim OFF LEN / zero OFF LEN / cache OFF LEN
//   block-status OFF LEN        nbd_block_status; count= counts extent callbacks
//   aio-pread OFF LEN xN        N nbd_aio_pread at once; ok/fails wait for all
//                               of them, `pending MS` polls MS and asserts
//                               none has completed
//   await                       waits for every aio command still pending
//   poll MS                     nbd_poll for MS (or until dead or closed)
//   opt-go opt-info opt-list opt-list-meta-context opt-set-meta-context
//   opt-structured-reply opt-extended-headers opt-abort
//   tls-negotiated              nbd_get_tls_negotiated; `ok count=N` is its answer
//   shutdown [abandon]          nbd_shutdown
//   close                       nbd_close now (the driver closes at the end anyway)
//
// Every action is written `#@ do ACTION ... -> OUTCOME`. Outcomes:
// `ok [count=N] [data=BYTES]`, `fails ERRNO "substring" [count=N]`,
// `pending MS` (aio-pread only). BYTES: hex:00ff, zeros:N or "text". A
// failure must have that errno, its message must contain the substring,
// and it must not cite any clause twice. Every wait is bounded (10 s).
//
// Other lines: `#@ state created|connecting|negotiating|ready|processing|
// dead|closed`, `#@ verdict completed|mismatch|timeout|client-gone|any`,
// `#@ never-sent option NAME` (no such option request reached the server),
// `#@ pending-tls` (the script is a TLS downgrade attempt: the handle is
// told LIBNBD_TLS_REQUIRE before the settings. A build without TLS must
// refuse that, and then nothing at all is sent and the `do` lines are not
// run; with TLS the `do` lines run, and must include a failing connect:
// the handle may never end up ready or negotiating),
// `#@ known-bug TEXT` (the outcomes written are
// our client's current behaviour, which the spec does not want; the test
// passes on them and prints the text).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

namespace nbdref::mock::hostile {

struct Setting {
  std::string key;
  std::string value;
  std::size_t line = 0;
};

struct Outcome {
  enum class Kind { Ok, Fails, Pending };
  Kind kind = Kind::Ok;
  int errnum = 0;          // Fails
  std::string errno_name;  // Fails, as written
  std::string substring;   // Fails: nbd_get_error() must contain it
  std::optional<std::uint64_t> count;
  std::optional<std::vector<std::uint8_t>> data;  // Ok of pread
  unsigned pending_ms = 0;                        // Pending
};

enum class ActionKind {
  Connect,
  Pread,
  Pwrite,
  Flush,
  Trim,
  Zero,
  Cache,
  BlockStatus,
  AioPread,
  Await,
  Poll,
  OptGo,
  OptInfo,
  OptList,
  OptListMetaContext,
  OptSetMetaContext,
  OptStructuredReply,
  OptExtendedHeaders,
  OptAbort,
  TlsNegotiated,
  Shutdown,
  Close,
  State,  // a `#@ state` check
};

struct Action {
  ActionKind kind = ActionKind::Connect;
  std::string name;                 // as written ("aio-pread")
  std::vector<std::uint64_t> args;  // offset, length; poll: milliseconds
  std::uint32_t flags = 0;          // LIBNBD_CMD_FLAG_* / LIBNBD_SHUTDOWN_*
  unsigned copies = 1;              // aio-pread xN
  std::string state;                // State
  Outcome outcome;
  std::size_t line = 0;
  std::string text;  // the line, for messages
};

struct ScriptHeader {
  std::string summary;  // the first `#` comment line
  std::vector<std::string> clauses;
  std::vector<Setting> settings;
  std::vector<Action> actions;
  std::optional<std::string> verdict;
  std::vector<std::string> never_sent_options;
  bool pending_tls = false;
  std::optional<std::string> known_bug;
};

// The header of a script's text, or "line N: what is wrong".
tl::expected<ScriptHeader, std::string> parse_header(std::string_view text);

// ECONNRESET -> its value; nullopt for names the driver does not know.
std::optional<int> errno_from_name(std::string_view name);

}  // namespace nbdref::mock::hostile
