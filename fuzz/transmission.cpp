// Fuzz target "transmission": the engine (client/src/engine) after a valid
// handshake, given a mix of commands in flight -- reads (simple and
// structured replies), writes, flush, trim, cache, zero, block status with
// up to three contexts -- and fed a hostile server's replies.
// Invariants:
//  - the handshake the configuration describes reaches transmission;
//  - every byte is taken until the connection ends, and an ended
//    connection stays as it ended;
//  - every command the engine accepts completes exactly once, with its own
//    cookie, and one it refuses never reports anything; a failure carries
//    an errno and a message;
//  - a read succeeds only when data and hole chunks covered every byte
//    (S-SR-045), each chunk inside the request and placed where it belongs
//    in the caller's buffer, holes as zeros; block status succeeds only
//    with one answer per negotiated context, each well formed (S-BS-041
//    to S-BS-044); a callback that fails fails its command;
//  - once a command completes the engine never touches its buffer again:
//    the buffer is poisoned for AddressSanitizer and overwritten with a
//    canary that must survive and never be sent (so builds without
//    sanitizers check it too);
//  - once the server closes, nothing is in flight and the connection is
//    dead with an error, or closed after NBD_CMD_DISC (asked for, or sent
//    on NBD_ESHUTDOWN); a command failed by a protocol violation (EPROTO)
//    leaves the connection dead with it;
//  - what the client sends is exactly the accepted commands, each once,
//    in the negotiated header form with its own parameters and payload,
//    and NBD_CMD_DISC only when asked, or after a command failed (the
//    server's NBD_ESHUTDOWN, C-TX-006), and last (C-TX-023).
//
// Input (decoded by transmission_input.hpp, which the mutator and the seed
// recorder share; the configuration read by transmission_setup.hpp, which
// the recorder shares): four configuration bytes, then operations.
//   byte 0: bit 0 structured replies, 1 extended headers; bits 2-3 how
//           many meta contexts; bit 4 strict checks all on (else all off),
//           5 pread_initialize, 6 block sizes 512/4096/64 KiB advertised,
//           7 every read and extent callback fails with EIO
//   bytes 1-2: transmission flags (made valid: HAS_FLAGS set, DF,
//           FAST_ZERO and BLOCK_STATUS_PAYLOAD only where the spec allows)
//   byte 3: export size, SIZES[byte % 4]
// Each operation is a tag byte t, by t % 4:
//   0 submit: a type byte (TYPES[b % 7]), a flags byte, a 32-bit offset
//     (from the end of the export when t & 0x80), a 16-bit length;
//   1 send: the client's output goes out;
//   2 receive: a 16-bit length n, then n bytes the server sends;
//   3 disconnect, abandoning unsent commands when t & 0x80.
// At the end the client's output goes out and the server closes.
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/connection.hpp"
#include "fuzz_input.hpp"
#include "invariant.hpp"
#include "tracked_command.hpp"
#include "transmission_input.hpp"
#include "transmission_setup.hpp"
#include "wire/constants.hpp"
#include "wire/limits.hpp"
#include "wire/request.hpp"

namespace {

using namespace nbdref;
using namespace nbdref::wire;
using engine::Phase;

using fuzz::transmission::MAX_COMMANDS;
using fuzz::transmission::Operation;
using fuzz::transmission::OperationKind;
using fuzz::transmission::read_setup;
using fuzz::transmission::Setup;
using fuzz::transmission::SubmitFields;

bool ended(Phase p) {
  return p == Phase::Dead || p == Phase::Closed;
}

class TransmissionRun {
 public:
  explicit TransmissionRun(const Setup& setup) : setup_(setup), conn_(setup.config()) {}

  void handshake() {
    conn_.feed(setup_.server_handshake());
    FUZZ_REQUIRE(conn_.phase() == Phase::Ready);
    const auto& s = conn_.session();
    FUZZ_REQUIRE(s.extended_headers == setup_.extended);
    FUZZ_REQUIRE(s.meta_contexts.size() == (setup_.payloads() ? setup_.contexts : 0));
    contexts_ = s.meta_contexts;
    conn_.take_output();  // the options; only transmission is checked here
  }

  void play(const std::vector<Operation>& operations) {
    for (const Operation& op : operations) {
      switch (op.kind()) {
        case OperationKind::Submit:
          submit(fuzz::transmission::submit_fields(op.body),
                 op.tag & fuzz::transmission::OP_FROM_END);
          break;
        case OperationKind::Send:
          send();
          break;
        case OperationKind::Receive:
          receive(op.body);
          break;
        case OperationKind::Disconnect:
          disconnect(op.tag & fuzz::transmission::OP_ABANDON);
          break;
      }
    }
    send();
    conn_.input_eof();
    note_phase();
    send();
    check_ending();
    check_sent();
  }

 private:
  void submit(const SubmitFields& fields, bool from_end) {
    if (commands_.size() == MAX_COMMANDS) return;
    auto& c =
        commands_.emplace_back(setup_.request(fields, from_end), contexts_, setup_.fail_callbacks);
    const auto cookie = conn_.submit(c.request());
    note_phase();
    if (!cookie) {
      FUZZ_REQUIRE(cookie.error().errnum != 0 && !cookie.error().message.empty());
      return;
    }
    FUZZ_REQUIRE(by_cookie_.emplace(*cookie, &c).second);
    c.submitted(*cookie);
  }

  void send() {
    const auto out = conn_.take_output();
    sent_.insert(sent_.end(), out.begin(), out.end());
    note_phase();
  }

  void receive(Bytes piece) {
    const std::size_t taken = conn_.feed(piece);
    FUZZ_REQUIRE(taken == piece.size() || ended(conn_.phase()));
    note_phase();
  }

  void disconnect(bool abandon) {
    const auto done = conn_.disconnect(abandon);
    if (done) {
      disconnect_requested_ = true;
    } else {
      FUZZ_REQUIRE(done.error().errnum == ENOTCONN && conn_.phase() != Phase::Ready);
    }
    note_phase();
  }

  void note_phase() {
    const Phase p = conn_.phase();
    if (ended_) {
      FUZZ_REQUIRE(p == *ended_);
    } else if (ended(p)) {
      ended_ = p;
    }
  }

  void check_ending() {
    FUZZ_REQUIRE(ended_.has_value() && conn_.in_flight() == 0);
    const auto& error = conn_.error();
    if (*ended_ == Phase::Dead) {
      FUZZ_REQUIRE(error && error->errnum != 0 && !error->message.empty());
    } else {
      FUZZ_REQUIRE(disconnect_requested_ || a_command_failed());
    }
    for (const auto& c : commands_) {
      if (!c.was_submitted()) {
        FUZZ_REQUIRE(c.completions() == 0);
        continue;
      }
      FUZZ_REQUIRE(c.completions() == 1 && c.buffer_untouched_since_completion());
      if (c.outcome().errnum == EPROTO) {
        FUZZ_REQUIRE(*ended_ == Phase::Dead && error->errnum == EPROTO);
      }
    }
    // An ended connection refuses new commands.
    const auto late = conn_.submit(engine::make_request(NBD_CMD_FLUSH, 0, 0, 0));
    FUZZ_REQUIRE(!late && late.error().errnum == ENOTCONN);
  }

  // The engine disconnects by itself only after NBD_ESHUTDOWN (C-TX-006),
  // which fails the command it answers.
  bool a_command_failed() const {
    return std::any_of(commands_.begin(), commands_.end(), [](const fuzz::TrackedCommand& c) {
      return c.completions() == 1 && c.outcome().errnum != 0;
    });
  }

  void check_sent() const {
    const Bytes sent(sent_);
    const bool extended = conn_.session().extended_headers;
    const std::size_t header_size = extended ? EXTENDED_REQUEST_SIZE : COMPACT_REQUEST_SIZE;
    std::vector<std::uint64_t> seen;
    bool disc = false;
    std::size_t at = 0;
    while (at < sent.size()) {
      FUZZ_REQUIRE(!disc);  // C-TX-023: nothing follows NBD_CMD_DISC
      FUZZ_REQUIRE(sent.size() - at >= header_size);
      const Bytes header = sent.subspan(at, header_size);
      const auto h = extended ? decode_extended_request(header) : decode_compact_request(header);
      FUZZ_REQUIRE(h.has_value());
      at += header_size;
      if (h->type == NBD_CMD_DISC) {
        // C-TX-024: no flags, offset or length.
        FUZZ_REQUIRE((disconnect_requested_ || a_command_failed()) && h->flags == 0 &&
                     h->offset == 0 && h->length == 0);
        disc = true;
        continue;
      }
      const auto found = by_cookie_.find(h->cookie);
      FUZZ_REQUIRE(found != by_cookie_.end());
      FUZZ_REQUIRE(std::find(seen.begin(), seen.end(), h->cookie) == seen.end());
      seen.push_back(h->cookie);
      const auto& c = *found->second;
      const auto& r = c.request();
      // Abandoned commands were never sent (C-TX-007 cut them out).
      FUZZ_REQUIRE(c.outcome().errnum != ECANCELED);
      const bool write = r.type == NBD_CMD_WRITE;
      const std::uint32_t payload_flag =
          extended && write ? std::uint32_t{NBD_CMD_FLAG_PAYLOAD_LEN} : 0u;
      FUZZ_REQUIRE(h->type == r.type && h->flags == (r.flags | payload_flag));
      if (r.type == NBD_CMD_FLUSH) {
        FUZZ_REQUIRE(h->offset == 0 && h->length == 0);  // C-TX-026
      } else {
        FUZZ_REQUIRE(h->offset == r.offset && h->length == r.length);
      }
      if (!write) continue;
      // C-TX-021: exactly the caller's bytes follow.
      const auto length = static_cast<std::size_t>(r.length);
      FUZZ_REQUIRE(sent.size() - at >= length);
      FUZZ_REQUIRE(std::memcmp(sent.data() + at, fuzz::pattern<fuzz::write_byte>(), length) == 0);
      at += length;
    }
    FUZZ_REQUIRE(*ended_ != Phase::Closed || disc);
  }

  const Setup& setup_;
  engine::Connection conn_;
  std::vector<engine::MetaContext> contexts_;  // as negotiated
  std::deque<fuzz::TrackedCommand> commands_;  // never moved: the engine holds pointers
  std::map<std::uint64_t, const fuzz::TrackedCommand*> by_cookie_;
  std::vector<std::uint8_t> sent_;  // everything the client sent in transmission
  bool disconnect_requested_ = false;
  std::optional<Phase> ended_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = fuzz::transmission::decode_transmission_input({data, size});
  fuzz::FuzzInput config(input.config);
  const Setup setup = read_setup(config);
  TransmissionRun run(setup);
  run.handshake();
  run.play(input.operations);
  return 0;
}
