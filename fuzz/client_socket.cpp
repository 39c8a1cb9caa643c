// Fuzz target "client_socket": the whole client -- C API, handle, poll
// loop, socket transport and engine -- used through client/compat/libnbd.h
// as an application would, over a real socketpair whose other end plays
// the input as the server. One thread, no fork, no sleep, no timeout.
//
// A run: nbd_create, the settings the configuration chooses (never TLS),
// nbd_aio_connect_socket on one end of the pair; then rounds of
//   1. the caller's turn: while the handle waits in the negotiating state
//      (option mode), the next nbd_aio_opt_* call of the configured list,
//      then nbd_aio_opt_go, then nbd_aio_opt_abort; once it is ready, the
//      command script below, all at once; once every command has
//      completed, nbd_shutdown(h, 0);
//   2. the server's turn: unless the client still has requests to send
//      (nbd_aio_get_direction asks for writing) -- a server answers only
//      what it has received -- the next piece of the stream is written;
//      once all of it is, the server shuts down its sending side (the
//      client sees the end of the stream);
//   3. the handle is driven once, by nbd_poll(h, 0), or by poll(2) on
//      nbd_aio_get_fd for what nbd_aio_get_direction asks and then
//      nbd_aio_notify_read / nbd_aio_notify_write; and what the client
//      sent is read and counted;
// until the handle is dead or closed. Then nbd_close. Bytes of the stream
// not yet written when the handle ends are never delivered.
//
// The command script (offset and count in bytes, flags 0), in this order:
//   1 nbd_aio_pread              count 512 at 0
//   2 nbd_aio_pread_structured   count 1024 at 1024, with a chunk callback
//   3 nbd_aio_pwrite             count 512 at 2048
//   4 nbd_aio_flush
//   5 nbd_aio_trim               count 4096 at 8192
//   6 nbd_aio_zero               count 4096 at 12288
//   7 nbd_aio_cache              count 4096 at 0
//   8 nbd_aio_block_status       count 65536 at 0, with an extent callback
//   9 nbd_aio_pread              count 20480 at 65536 (only with byte 1
//     bit 7: large enough to be read straight into the caller's buffer)
// The client refuses some of them (strict mode and the export's flags, no
// meta context); those it accepts get cookies 1, 2, 3, ... in this order,
// which is what a recorded conversation's replies must name.
//
// Invariants:
//  - the run ends: at most IDLE_ROUNDS rounds in a row pass without a
//    byte sent either way (and each side sends a bounded amount), then the
//    handle is dead or closed -- closed only after the caller's
//    nbd_shutdown or NBD_OPT_ABORT, or after a command failed with
//    ESHUTDOWN, on which the client disconnects by itself (C-TX-006) --
//    with nothing in flight
//    (nbd_aio_in_flight 0); only an ended handle hangs up;
//  - every command the client accepts gets the next cookie and completes
//    exactly once, after its call returned; one it refuses never does;
//    nbd_aio_command_completed then agrees with the completion (1, or -1
//    with its errno), and knows no command retired already (EINVAL);
//    every option started completes exactly once;
//  - every call that fails leaves nbd_get_error naming it and a nonzero
//    nbd_get_errno; a dead or closed handle refuses new commands so;
//  - reads: right after the call the buffer holds zeros with
//    pread_initialize, and is untouched without it; a read that succeeds
//    over simple replies holds bytes the server sent, as one run of the
//    stream (its payload, S-TX-031); a structured read succeeds only when
//    data and hole chunks covered every byte (S-SR-045) and no chunk
//    callback failed, each chunk inside the request (S-SR-021), data
//    placed where it belongs and taken from the stream, holes as zeros (a
//    plain nbd_aio_pread over structured replies shows the caller no
//    chunks, so only the buffer rules below apply to it);
//    extents name a context the handshake selected (nbd_can_meta_context,
//    asked once the handle is closed), start at the request's offset and
//    have no zero length (S-BS-041, S-BS-042);
//  - once a command completes, its buffer is never touched again: it is
//    poisoned for AddressSanitizer and overwritten with a canary that must
//    survive to the end (so builds without sanitizers check it too);
//  - every .free runs exactly once by the end of nbd_close, for an accepted
//    command only after its completion;
//  - the client sends at most MAX_CLIENT_BYTES, exactly what
//    nbd_stats_bytes_sent counts, and receives no more than was written;
//  - nbd_close leaks nothing (LeakSanitizer) and closes the client's end.
//
// Input: five configuration bytes, then the server's byte stream.
//   byte 0, what the handle asks for (a clear bit turns the setting off):
//     bit 0 nbd_set_request_structured_replies
//     bit 1 nbd_set_request_extended_headers
//     bit 2 nbd_add_meta_context META_CONTEXT_NAMES[0]
//           (meta_context_names.hpp)
//     bit 3 nbd_add_meta_context META_CONTEXT_NAMES[1] (after bit 2's)
//     bit 4 nbd_set_request_block_size
//     bit 5 nbd_set_full_info
//     bit 6 handshake flag LIBNBD_HANDSHAKE_FLAG_FIXED_NEWSTYLE
//     bit 7 handshake flag LIBNBD_HANDSHAKE_FLAG_NO_ZEROES
//   byte 1, the caller:
//     bit 0 nbd_set_export_name "disk" (else "")
//     bit 1 nbd_set_strict_mode 0 (else left at the default, every check)
//     bit 2 nbd_set_pread_initialize true (else false)
//     bit 3 nbd_set_opt_mode true
//     bit 4 drive with nbd_poll(h, 0) (else poll(2) and nbd_aio_notify_*)
//     bit 5 completion callbacks return 1, retiring their command (else 0,
//           and nbd_aio_command_completed retires it after the run)
//     bit 6 chunk and extent callbacks fail: return -1 with *error = EIO
//     bit 7 add command 9, the large read
//   byte 2, how the stream is cut: PIECES[low nibble] bytes a round while
//     the handle connects or negotiates, PIECES[high nibble] once it is
//     ready; PIECES = 1 2 3 5 8 13 21 34 64 128 256 512 1024 4096 16384
//     65536
//   bytes 3-4, option mode only: up to four nbd_aio_opt_* calls, a nibble
//     each, byte 3's low nibble first: 0 list, 1 info, 2 list_meta_context,
//     3 set_meta_context, 4 structured_reply, 5 extended_headers, 6 go,
//     7 abort; a nibble of 8 or more ends the list
//   the rest: every byte the server sends, in order.
// A conversation recorded from a real server with a client configured and
// scripted the same way replays unchanged with byte 2's low nibble 0: one
// byte a round during the handshake means the caller acts exactly when the
// handshake (or an option) ends, before any later byte arrives.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <sanitizer/asan_interface.h>

#include "byte_pattern.hpp"
#include "fuzz_input.hpp"
#include "invariant.hpp"
#include "libnbd.h"
#include "meta_context_names.hpp"

namespace {

using Bytes = std::span<const std::uint8_t>;

constexpr std::size_t PIECES[16] = {1,  2,   3,   5,   8,    13,   21,    34,
                                    64, 128, 256, 512, 1024, 4096, 16384, 65536};
// Far more than any configuration makes the client send: a few options of
// at most a few hundred bytes, nine command headers and one 512-byte write.
constexpr std::size_t MAX_CLIENT_BYTES = 16 * 1024;
// Rounds in a row in which neither side may send anything: the client
// flushing its requests, or ending once the stream has ended.
constexpr int IDLE_ROUNDS = 64;

enum class OptionCall {
  List,
  Info,
  ListMetaContext,
  SetMetaContext,
  StructuredReply,
  ExtendedHeaders,
  Go,
  Abort,
};
constexpr unsigned OPTION_CALLS = 8;

enum class CommandCall { Read, StructuredRead, Write, Flush, Trim, Zero, Cache, BlockStatus };

struct ScriptedCommand {
  CommandCall call;
  std::uint64_t count;
  std::uint64_t offset;
};
constexpr ScriptedCommand SCRIPT[] = {
    {CommandCall::Read, 512, 0},     {CommandCall::StructuredRead, 1024, 1024},
    {CommandCall::Write, 512, 2048}, {CommandCall::Flush, 0, 0},
    {CommandCall::Trim, 4096, 8192}, {CommandCall::Zero, 4096, 12288},
    {CommandCall::Cache, 4096, 0},   {CommandCall::BlockStatus, 65536, 0},
};
constexpr ScriptedCommand LARGE_READ{CommandCall::Read, 20480, 65536};
// The largest buffer (the reads' and the write's) fits the byte patterns.
static_assert(LARGE_READ.count <= nbdref::fuzz::PATTERN_SIZE);

using nbdref::fuzz::canary_byte;
using nbdref::fuzz::META_CONTEXT_NAMES;
using nbdref::fuzz::pattern;
using nbdref::fuzz::zero_byte;

// What a read buffer holds before its call, and a write buffer carries.
std::uint8_t fill_byte(std::size_t i) {
  return static_cast<std::uint8_t>(i ^ (i >> 8) ^ 0xa5);
}

bool same_bytes(const std::uint8_t* data, std::size_t size, const std::uint8_t* expected) {
  return std::memcmp(data, expected, size) == 0;
}

// The failing call `function` left its own message and an errno.
void require_error_from(const char* function) {
  const char* message = nbd_get_error();
  FUZZ_REQUIRE(message != nullptr && nbd_get_errno() != 0);
  FUZZ_REQUIRE(std::strncmp(message, function, std::strlen(function)) == 0);
}

struct Setup {
  std::uint8_t handshake = 0;
  std::uint8_t caller = 0;
  std::size_t handshake_piece = 1;
  std::size_t ready_piece = 1;
  std::vector<OptionCall> options;

  bool structured_replies() const { return handshake & 0x01; }
  bool extended_headers() const { return handshake & 0x02; }
  bool block_size() const { return handshake & 0x10; }
  bool full_info() const { return handshake & 0x20; }
  std::uint32_t handshake_flags() const {
    return ((handshake & 0x40) ? LIBNBD_HANDSHAKE_FLAG_FIXED_NEWSTYLE : 0u) |
           ((handshake & 0x80) ? LIBNBD_HANDSHAKE_FLAG_NO_ZEROES : 0u);
  }
  std::vector<const char*> contexts() const {
    std::vector<const char*> c;
    if (handshake & 0x04) c.push_back(META_CONTEXT_NAMES[0]);
    if (handshake & 0x08) c.push_back(META_CONTEXT_NAMES[1]);
    return c;
  }
  const char* export_name() const { return (caller & 0x01) ? "disk" : ""; }
  bool no_strict() const { return caller & 0x02; }
  bool pread_initialize() const { return caller & 0x04; }
  bool opt_mode() const { return caller & 0x08; }
  bool poll_driver() const { return caller & 0x10; }
  bool auto_retire() const { return caller & 0x20; }
  bool fail_callbacks() const { return caller & 0x40; }
  bool large_read() const { return caller & 0x80; }
};

Setup read_setup(nbdref::fuzz::FuzzInput& in) {
  Setup s;
  s.handshake = in.byte();
  s.caller = in.byte();
  const std::uint8_t pieces = in.byte();
  s.handshake_piece = PIECES[pieces & 0x0f];
  s.ready_piece = PIECES[pieces >> 4];
  const std::uint8_t options[] = {in.byte(), in.byte()};
  if (!s.opt_mode()) return s;
  for (const unsigned pair : options) {
    for (const unsigned nibble : {pair & 0x0fu, pair >> 4}) {
      if (nibble >= OPTION_CALLS) return s;
      s.options.push_back(static_cast<OptionCall>(nibble));
    }
  }
  return s;
}

class ClientRun;

// One scripted command, its buffer and what its callbacks saw.
struct Command {
  ClientRun* run = nullptr;
  ScriptedCommand what{};
  std::unique_ptr<std::uint8_t[]> buffer;  // reads and the write
  std::vector<std::uint8_t> covered;       // structured read: 1 where a chunk placed bytes
  std::int64_t cookie = 0;                 // 0 until its call returned one
  int completions = 0;
  int error = 0;  // as the completion callback saw it
  bool callback_failed = false;
  int completion_frees = 0;
  int chunk_frees = 0;
  int extent_frees = 0;

  bool has_buffer() const { return static_cast<bool>(buffer); }
  std::size_t size() const { return static_cast<std::size_t>(what.count); }
};

// One nbd_aio_opt_* call.
struct Option {
  OptionCall call{};
  bool accepted = false;
  int completions = 0;
  int completion_frees = 0;
  int listing_frees = 0;  // its list or context callback
  bool has_listing() const {
    return call == OptionCall::List || call == OptionCall::ListMetaContext ||
           call == OptionCall::SetMetaContext;
  }
  bool has_completion() const { return call != OptionCall::Abort; }
};

class ClientRun {
 public:
  ClientRun(const Setup& setup, Bytes stream) : setup_(setup), stream_(stream) {}
  ClientRun(const ClientRun&) = delete;
  ClientRun& operator=(const ClientRun&) = delete;

  void run() {
    int pair[2];
    FUZZ_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
    server_ = pair[0];
    h_ = nbd_create();
    FUZZ_REQUIRE(h_ != nullptr);
    configure();
    // The handle owns its end from here on.
    FUZZ_REQUIRE(nbd_aio_connect_socket(h_, pair[1]) == 0);
    play();
    check_ending();
    const std::uint64_t sent = nbd_stats_bytes_sent(h_);
    FUZZ_REQUIRE(nbd_stats_bytes_received(h_) <= written_);
    nbd_close(h_);
    h_ = nullptr;
    // nbd_close hung up: everything the client sent is now readable, then
    // the end of the stream.
    FUZZ_REQUIRE(!drain() && received_ == sent);
    ::close(server_);
    check_released();
  }

 private:
  // ---- setup ----

  void configure() {
    FUZZ_REQUIRE(nbd_set_tls(h_, LIBNBD_TLS_DISABLE) == 0);
    FUZZ_REQUIRE(nbd_set_request_structured_replies(h_, setup_.structured_replies()) == 0);
    FUZZ_REQUIRE(nbd_set_request_extended_headers(h_, setup_.extended_headers()) == 0);
    for (const char* context : setup_.contexts()) {
      FUZZ_REQUIRE(nbd_add_meta_context(h_, context) == 0);
    }
    FUZZ_REQUIRE(nbd_set_request_block_size(h_, setup_.block_size()) == 0);
    FUZZ_REQUIRE(nbd_set_full_info(h_, setup_.full_info()) == 0);
    FUZZ_REQUIRE(nbd_set_handshake_flags(h_, setup_.handshake_flags()) == 0);
    FUZZ_REQUIRE(nbd_set_export_name(h_, setup_.export_name()) == 0);
    if (setup_.no_strict()) FUZZ_REQUIRE(nbd_set_strict_mode(h_, 0) == 0);
    FUZZ_REQUIRE(nbd_set_pread_initialize(h_, setup_.pread_initialize()) == 0);
    FUZZ_REQUIRE(nbd_set_opt_mode(h_, setup_.opt_mode()) == 0);
  }

  // ---- the rounds ----

  bool ended() const { return nbd_aio_is_dead(h_) || nbd_aio_is_closed(h_); }

  void play() {
    int idle_rounds = 0;
    for (;;) {
      caller_turn();
      if (ended()) return;
      const std::size_t before = written_ + received_;
      server_turn();
      drive();
      // Only what the client counts as sent is there to read (the end
      // checks that the counts agree).
      const bool client_open = nbd_stats_bytes_sent(h_) == received_ || drain();
      if (ended()) return;
      FUZZ_REQUIRE(client_open);  // only an ended handle hangs up
      // No hang: rounds in which neither side sends anything are few.
      idle_rounds = written_ + received_ == before ? idle_rounds + 1 : 0;
      FUZZ_REQUIRE(idle_rounds <= IDLE_ROUNDS);
    }
  }

  void caller_turn() {
    if (nbd_aio_is_negotiating(h_)) {
      next_option();
      return;
    }
    if (!nbd_aio_is_ready(h_) && !nbd_aio_is_processing(h_)) return;
    if (!script_issued_) issue_script();
    if (completed_ < accepted_) return;
    shutdown_called_ = true;
    if (nbd_shutdown(h_, 0) != 0) require_error_from("nbd_shutdown");
    // nbd_shutdown returns once the connection has ended.
    FUZZ_REQUIRE(ended());
  }

  void server_turn() {
    if (stream_done_) return;
    // A server answers what it has received: nothing is written while the
    // client has requests still to send.
    if (nbd_aio_get_direction(h_) & LIBNBD_AIO_DIRECTION_WRITE) return;
    if (written_ == stream_.size()) {
      ::shutdown(server_, SHUT_WR);
      stream_done_ = true;
      return;
    }
    const bool handshaking = nbd_aio_is_connecting(h_) || nbd_aio_is_negotiating(h_);
    const std::size_t piece = std::min(handshaking ? setup_.handshake_piece : setup_.ready_piece,
                                       stream_.size() - written_);
    const ssize_t n =
        ::send(server_, stream_.data() + written_, piece, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) written_ += static_cast<std::size_t>(n);
    // A full socket takes the rest in a later round; a closed one never.
  }

  void drive() {
    if (setup_.poll_driver()) {
      FUZZ_REQUIRE(nbd_poll(h_, 0) >= 0);
      return;
    }
    const int fd = nbd_aio_get_fd(h_);
    FUZZ_REQUIRE(fd >= 0);
    const unsigned direction = nbd_aio_get_direction(h_);
    pollfd p{fd, 0, 0};
    if (direction & LIBNBD_AIO_DIRECTION_READ) p.events |= POLLIN;
    if (direction & LIBNBD_AIO_DIRECTION_WRITE) p.events |= POLLOUT;
    FUZZ_REQUIRE(::poll(&p, 1, 0) >= 0);
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) FUZZ_REQUIRE(nbd_aio_notify_read(h_) == 0);
    if ((p.revents & POLLOUT) && !ended()) FUZZ_REQUIRE(nbd_aio_notify_write(h_) == 0);
  }

  // Reads what the client sent so far; false once the client has hung up.
  bool drain() {
    std::uint8_t scratch[4096];
    for (;;) {
      const ssize_t n = ::recv(server_, scratch, sizeof scratch, MSG_DONTWAIT);
      if (n <= 0) return n < 0;
      received_ += static_cast<std::size_t>(n);
      FUZZ_REQUIRE(received_ <= MAX_CLIENT_BYTES);
    }
  }

  // ---- options ----

  void next_option() {
    if (next_option_ < setup_.options.size()) {
      start_option(setup_.options[next_option_++]);
    } else if (!go_tried_) {
      go_tried_ = true;
      start_option(OptionCall::Go);
    } else if (!abort_tried_) {
      start_option(OptionCall::Abort);
    }
  }

  static int option_completed(void* user_data, int* error) {
    auto& o = *static_cast<Option*>(user_data);
    FUZZ_REQUIRE(++o.completions == 1 && error != nullptr);
    return 0;
  }
  static void option_completion_freed(void* user_data) {
    FUZZ_REQUIRE(++static_cast<Option*>(user_data)->completion_frees == 1);
  }
  static void option_listing_freed(void* user_data) {
    FUZZ_REQUIRE(++static_cast<Option*>(user_data)->listing_frees == 1);
  }
  // Strings the server sent: at most 4096 bytes each (C-GEN-003).
  static int export_listed(void*, const char* name, const char* description) {
    FUZZ_REQUIRE(name && description && std::strlen(name) <= 4096 &&
                 std::strlen(description) <= 4096);
    return 0;
  }
  static int context_listed(void*, const char* name) {
    FUZZ_REQUIRE(name && std::strlen(name) <= 4096);
    return 0;
  }

  void start_option(OptionCall call) {
    auto& o = options_.emplace_back();
    o.call = call;
    const nbd_completion_callback done{option_completed, &o, option_completion_freed};
    const nbd_list_callback list{export_listed, &o, option_listing_freed};
    const nbd_context_callback context{context_listed, &o, option_listing_freed};
    int r = -1;
    const char* function = "";
    switch (call) {
      case OptionCall::List:
        function = "nbd_aio_opt_list";
        r = nbd_aio_opt_list(h_, list, done);
        break;
      case OptionCall::Info:
        function = "nbd_aio_opt_info";
        r = nbd_aio_opt_info(h_, done);
        break;
      case OptionCall::ListMetaContext:
        function = "nbd_aio_opt_list_meta_context";
        r = nbd_aio_opt_list_meta_context(h_, context, done);
        break;
      case OptionCall::SetMetaContext:
        function = "nbd_aio_opt_set_meta_context";
        r = nbd_aio_opt_set_meta_context(h_, context, done);
        break;
      case OptionCall::StructuredReply:
        function = "nbd_aio_opt_structured_reply";
        r = nbd_aio_opt_structured_reply(h_, done);
        break;
      case OptionCall::ExtendedHeaders:
        function = "nbd_aio_opt_extended_headers";
        r = nbd_aio_opt_extended_headers(h_, done);
        break;
      case OptionCall::Go:
        function = "nbd_aio_opt_go";
        r = nbd_aio_opt_go(h_, done);
        break;
      case OptionCall::Abort:
        function = "nbd_aio_opt_abort";
        r = nbd_aio_opt_abort(h_);
        break;
    }
    o.accepted = r == 0;
    if (!o.accepted) {
      require_error_from(function);
      FUZZ_REQUIRE(o.completions == 0);
    }
    if (call == OptionCall::Abort) abort_tried_ = true;
  }

  // ---- commands ----

  void issue_script() {
    script_issued_ = true;
    // Structured replies, or extended headers which imply them.
    const int structured = nbd_get_structured_replies_negotiated(h_);
    FUZZ_REQUIRE(structured == 0 || structured == 1);
    simple_replies_ = structured == 0;
    for (const auto& what : SCRIPT) issue(what);
    if (setup_.large_read()) issue(LARGE_READ);
  }

  static int command_completed(void* user_data, int* error) {
    auto& c = *static_cast<Command*>(user_data);
    c.run->on_completion(c, *error);
    return c.run->setup_.auto_retire() ? 1 : 0;
  }
  static void completion_freed(void* user_data) {
    auto& c = *static_cast<Command*>(user_data);
    FUZZ_REQUIRE(++c.completion_frees == 1);
    // An accepted command keeps its callbacks until it has completed.
    FUZZ_REQUIRE(c.cookie == 0 || c.completions == 1);
  }
  static void chunk_freed(void* user_data) {
    auto& c = *static_cast<Command*>(user_data);
    FUZZ_REQUIRE(++c.chunk_frees == 1 && (c.cookie == 0 || c.completions == 1));
  }
  static void extent_freed(void* user_data) {
    auto& c = *static_cast<Command*>(user_data);
    FUZZ_REQUIRE(++c.extent_frees == 1 && (c.cookie == 0 || c.completions == 1));
  }

  static int chunk_arrived(void* user_data, const void* subbuf, std::size_t count,
                           std::uint64_t offset, unsigned status, int* error) {
    auto& c = *static_cast<Command*>(user_data);
    return c.run->on_chunk(c, static_cast<const std::uint8_t*>(subbuf), count, offset, status,
                           error);
  }
  static int extents_arrived(void* user_data, const char* context, std::uint64_t offset,
                             std::uint32_t* entries, std::size_t count, int* error) {
    auto& c = *static_cast<Command*>(user_data);
    return c.run->on_extents(c, context, offset, entries, count, error);
  }

  void issue(const ScriptedCommand& what) {
    auto& c = commands_.emplace_back();
    c.run = this;
    c.what = what;
    const bool read = what.call == CommandCall::Read || what.call == CommandCall::StructuredRead;
    if (read || what.call == CommandCall::Write) {
      c.buffer = std::make_unique<std::uint8_t[]>(c.size());
      std::memcpy(c.buffer.get(), pattern<fill_byte>(), c.size());
    }
    if (what.call == CommandCall::StructuredRead) c.covered.assign(c.size(), 0);

    const nbd_completion_callback done{command_completed, &c, completion_freed};
    const nbd_chunk_callback chunk{chunk_arrived, &c, chunk_freed};
    const nbd_extent_callback extents{extents_arrived, &c, extent_freed};
    std::int64_t cookie = -1;
    const char* function = "";
    switch (what.call) {
      case CommandCall::Read:
        function = "nbd_aio_pread";
        cookie = nbd_aio_pread(h_, c.buffer.get(), c.size(), what.offset, done, 0);
        break;
      case CommandCall::StructuredRead:
        function = "nbd_aio_pread_structured";
        cookie =
            nbd_aio_pread_structured(h_, c.buffer.get(), c.size(), what.offset, chunk, done, 0);
        break;
      case CommandCall::Write:
        function = "nbd_aio_pwrite";
        cookie = nbd_aio_pwrite(h_, c.buffer.get(), c.size(), what.offset, done, 0);
        break;
      case CommandCall::Flush:
        function = "nbd_aio_flush";
        cookie = nbd_aio_flush(h_, done, 0);
        break;
      case CommandCall::Trim:
        function = "nbd_aio_trim";
        cookie = nbd_aio_trim(h_, what.count, what.offset, done, 0);
        break;
      case CommandCall::Zero:
        function = "nbd_aio_zero";
        cookie = nbd_aio_zero(h_, what.count, what.offset, done, 0);
        break;
      case CommandCall::Cache:
        function = "nbd_aio_cache";
        cookie = nbd_aio_cache(h_, what.count, what.offset, done, 0);
        break;
      case CommandCall::BlockStatus:
        function = "nbd_aio_block_status";
        cookie = nbd_aio_block_status(h_, what.count, what.offset, extents, done, 0);
        break;
    }
    // The call neither completed the command nor read into its buffer:
    // pread_initialize zeroed it, or it is as the caller filled it.
    FUZZ_REQUIRE(c.completions == 0);
    if (read) {
      FUZZ_REQUIRE(
          same_bytes(c.buffer.get(), c.size(),
                     setup_.pread_initialize() ? pattern<zero_byte>() : pattern<fill_byte>()));
    }
    if (cookie == -1) {
      require_error_from(function);
      return;
    }
    // Cookies count the accepted commands from 1, as libnbd's do.
    FUZZ_REQUIRE(cookie == static_cast<std::int64_t>(++accepted_));
    c.cookie = cookie;
  }

  int on_chunk(Command& c, const std::uint8_t* subbuf, std::size_t count, std::uint64_t offset,
               unsigned status, int* error) {
    FUZZ_REQUIRE(c.cookie != 0 && c.completions == 0 && error != nullptr);
    FUZZ_REQUIRE(status == LIBNBD_READ_DATA || status == LIBNBD_READ_HOLE ||
                 status == LIBNBD_READ_ERROR);
    const auto& r = c.what;
    // S-SR-021: inside the request.
    FUZZ_REQUIRE(offset >= r.offset && offset - r.offset <= r.count &&
                 count <= r.count - (offset - r.offset));
    const auto at = static_cast<std::size_t>(offset - r.offset);
    switch (status) {
      case LIBNBD_READ_DATA:
        FUZZ_REQUIRE(subbuf == c.buffer.get() + at);
        // The server's bytes, as it sent them.
        FUZZ_REQUIRE(count == 0 || memmem(stream_.data(), stream_.size(), subbuf, count));
        break;
      case LIBNBD_READ_HOLE:
        FUZZ_REQUIRE(subbuf == c.buffer.get() + at &&
                     same_bytes(subbuf, count, pattern<zero_byte>()));
        break;
      case LIBNBD_READ_ERROR:
        FUZZ_REQUIRE(count == 0 && *error != 0 && at < r.count);  // S-SR-032
        break;
    }
    if (status != LIBNBD_READ_ERROR && count > 0) std::memset(c.covered.data() + at, 1, count);
    return fail_if_asked(c, error);
  }

  int on_extents(Command& c, const char* context, std::uint64_t offset,
                 const std::uint32_t* entries, std::size_t count, int* error) {
    FUZZ_REQUIRE(c.cookie != 0 && c.completions == 0 && error != nullptr);
    // A context the server selected: the query syntax is the server's, so
    // its name need not be one asked for; check_ending asks the handle.
    FUZZ_REQUIRE(context && std::strlen(context) <= 4096);
    if (std::find(contexts_seen_.begin(), contexts_seen_.end(), context) == contexts_seen_.end()) {
      contexts_seen_.emplace_back(context);
    }
    FUZZ_REQUIRE(offset == c.what.offset);
    // (length, flags) pairs, at least one (S-BS-041), none empty (S-BS-042).
    FUZZ_REQUIRE(entries && count >= 2 && count % 2 == 0);
    for (std::size_t i = 0; i < count; i += 2) FUZZ_REQUIRE(entries[i] != 0);
    return fail_if_asked(c, error);
  }

  // A failing callback returns -1 and says why in *error (libnbd's rule).
  int fail_if_asked(Command& c, int* error) {
    if (!setup_.fail_callbacks()) return 0;
    c.callback_failed = true;
    *error = EIO;
    return -1;
  }

  void on_completion(Command& c, int error) {
    FUZZ_REQUIRE(c.cookie != 0 && ++c.completions == 1);
    ++completed_;
    c.error = error;
    if (error == 0) {
      FUZZ_REQUIRE(!c.callback_failed);
      const bool read = c.what.call == CommandCall::Read;
      if (read && simple_replies_) {
        // S-TX-031: the payload followed the reply header in one piece.
        FUZZ_REQUIRE(memmem(stream_.data(), stream_.size(), c.buffer.get(), c.size()));
      }
      if (c.what.call == CommandCall::StructuredRead) {
        // S-SR-045: every byte arrived.
        FUZZ_REQUIRE(!std::memchr(c.covered.data(), 0, c.covered.size()));
      }
    }
    if (!c.has_buffer()) return;
    // The caller may reuse its buffer now.
    std::memcpy(c.buffer.get(), pattern<canary_byte>(), c.size());
    ASAN_POISON_MEMORY_REGION(c.buffer.get(), c.size());
  }

  // ---- the ending ----

  void check_ending() {
    FUZZ_REQUIRE(ended());
    if (nbd_aio_is_closed(h_)) {
      const bool server_shut_down =
          std::any_of(commands_.begin(), commands_.end(),
                      [](const Command& c) { return c.error == ESHUTDOWN; });
      FUZZ_REQUIRE(shutdown_called_ || abort_tried_ || server_shut_down);  // C-TX-006
    }
    FUZZ_REQUIRE(nbd_aio_in_flight(h_) == 0);
    for (auto& c : commands_) {
      if (c.cookie == 0) {
        FUZZ_REQUIRE(c.completions == 0);
        continue;
      }
      FUZZ_REQUIRE(c.completions == 1);
      const int done = nbd_aio_command_completed(h_, static_cast<std::uint64_t>(c.cookie));
      if (setup_.auto_retire()) {
        FUZZ_REQUIRE(done == -1 && nbd_get_errno() == EINVAL);
      } else if (c.error == 0) {
        FUZZ_REQUIRE(done == 1);
      } else {
        FUZZ_REQUIRE(done == -1 && nbd_get_errno() == c.error);
      }
      if (done == -1) require_error_from("nbd_aio_command_completed");
      // Retired now, whichever way.
      FUZZ_REQUIRE(nbd_aio_command_completed(h_, static_cast<std::uint64_t>(c.cookie)) == -1 &&
                   nbd_get_errno() == EINVAL);
    }
    for (const auto& o : options_) {
      FUZZ_REQUIRE(o.completions == (o.accepted && o.has_completion() ? 1 : 0));
    }
    // Extents came only for contexts the handshake selected (a closed
    // handle still answers; a dead one does not).
    if (nbd_aio_is_closed(h_)) {
      for (const auto& name : contexts_seen_) {
        FUZZ_REQUIRE(nbd_can_meta_context(h_, name.c_str()) == 1);
      }
    }
    // An ended handle takes no new command, and still releases its callbacks.
    auto& late = commands_.emplace_back();
    late.run = this;
    late.what = SCRIPT[3];
    FUZZ_REQUIRE(nbd_aio_flush(h_, {command_completed, &late, completion_freed}, 0) == -1);
    require_error_from("nbd_aio_flush");
    FUZZ_REQUIRE(late.completion_frees == 1);
  }

  // After nbd_close: every callback released once, every buffer untouched
  // since its command completed.
  void check_released() {
    for (auto& c : commands_) {
      FUZZ_REQUIRE(c.completion_frees == 1);
      FUZZ_REQUIRE(c.chunk_frees == (c.what.call == CommandCall::StructuredRead ? 1 : 0));
      FUZZ_REQUIRE(c.extent_frees == (c.what.call == CommandCall::BlockStatus ? 1 : 0));
      if (!c.has_buffer()) continue;
      ASAN_UNPOISON_MEMORY_REGION(c.buffer.get(), c.size());
      if (c.completions == 1)
        FUZZ_REQUIRE(same_bytes(c.buffer.get(), c.size(), pattern<canary_byte>()));
    }
    for (const auto& o : options_) {
      FUZZ_REQUIRE(o.completion_frees == (o.has_completion() ? 1 : 0));
      FUZZ_REQUIRE(o.listing_frees == (o.has_listing() ? 1 : 0));
    }
  }

  const Setup& setup_;
  const Bytes stream_;
  nbd_handle* h_ = nullptr;
  int server_ = -1;
  std::size_t written_ = 0;   // stream bytes the server has sent
  bool stream_done_ = false;  // all sent and the sending side shut down
  std::size_t received_ = 0;  // bytes the client sent
  std::size_t next_option_ = 0;
  bool go_tried_ = false;
  bool abort_tried_ = false;
  bool script_issued_ = false;
  bool simple_replies_ = false;
  bool shutdown_called_ = false;
  std::size_t accepted_ = 0;                // commands the client accepted
  std::size_t completed_ = 0;               // ... and saw complete
  std::vector<std::string> contexts_seen_;  // named by extent callbacks
  std::deque<Command> commands_;            // never moved: callbacks hold pointers
  std::deque<Option> options_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  nbdref::fuzz::FuzzInput in({data, size});
  const Setup setup = read_setup(in);
  ClientRun run(setup, in.rest());
  run.run();
  return 0;
}
