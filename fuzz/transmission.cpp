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
//    dead with an error, or closed after NBD_CMD_DISC; a command failed by
//    a protocol violation (EPROTO) leaves the connection dead with it;
//  - what the client sends is exactly the accepted commands, each once,
//    in the negotiated header form with its own parameters and payload,
//    and NBD_CMD_DISC only when asked and last (C-TX-023).
//
// Input: four configuration bytes, then operations.
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
#include "wire/constants.hpp"
#include "wire/handshake.hpp"
#include "wire/limits.hpp"
#include "wire/option_reply.hpp"
#include "wire/request.hpp"

namespace {

using namespace nbdref;
using namespace nbdref::wire;
using engine::Phase;

constexpr std::uint16_t TYPES[] = {NBD_CMD_READ,        NBD_CMD_WRITE, NBD_CMD_FLUSH,
                                   NBD_CMD_TRIM,        NBD_CMD_CACHE, NBD_CMD_WRITE_ZEROES,
                                   NBD_CMD_BLOCK_STATUS};
constexpr std::uint64_t SIZES[] = {1 << 20, 0, std::uint64_t{1} << 40,
                                   (std::uint64_t{1} << 63) - 512};
constexpr const char* CONTEXTS[] = {"base:allocation", "qemu:dirty-bitmap:bitmap0",
                                    "qemu:allocation-depth"};
constexpr std::uint32_t CONTEXT_IDS[] = {1, 2, 3};
constexpr InfoBlockSize BLOCK_SIZES{512, 4096, 64 * 1024};
// Enough commands to fill the engine's tables, few enough to stay fast.
constexpr std::size_t MAX_COMMANDS = 16;

struct Setup {
  bool structured = false;
  bool extended = false;
  unsigned contexts = 0;
  bool strict = false;
  bool pread_initialize = false;
  bool block_sizes = false;
  bool fail_callbacks = false;
  std::uint16_t flags = 0;
  std::uint64_t size = 0;

  bool payloads() const { return structured || extended; }

  engine::ConnectionConfig config() const {
    engine::ConnectionConfig c;
    c.request_extended_headers = extended;
    c.request_structured_replies = structured;
    for (unsigned i = 0; i < contexts; ++i) c.meta_contexts.emplace_back(CONTEXTS[i]);
    c.strict = strict ? std::uint32_t{engine::STRICT_ALL} : 0u;
    c.pread_initialize = pread_initialize;
    return c;
  }

  // An honest server's side of the handshake: every option the client
  // sends is granted.
  std::vector<std::uint8_t> server_handshake() const {
    std::vector<std::uint8_t> out;
    Writer w(out);
    encode_newstyle_greeting({NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES}, w);
    if (extended) {
      encode_option_reply(NBD_OPT_EXTENDED_HEADERS, NBD_REP_ACK, {}, w);
    } else if (structured) {
      encode_option_reply(NBD_OPT_STRUCTURED_REPLY, NBD_REP_ACK, {}, w);
    }
    if (contexts > 0 && payloads()) {
      for (unsigned i = 0; i < contexts; ++i) {
        std::vector<std::uint8_t> payload;
        Writer p(payload);
        encode_meta_context_reply({CONTEXT_IDS[i], CONTEXTS[i]}, p);
        encode_option_reply(NBD_OPT_SET_META_CONTEXT, NBD_REP_META_CONTEXT, payload, w);
      }
      encode_option_reply(NBD_OPT_SET_META_CONTEXT, NBD_REP_ACK, {}, w);
    }
    const auto info = [&](const InfoReply& reply) {
      std::vector<std::uint8_t> payload;
      Writer p(payload);
      encode_info_reply(reply, p);
      encode_option_reply(NBD_OPT_GO, NBD_REP_INFO, payload, w);
    };
    info(InfoExport{size, flags});
    if (block_sizes) info(BLOCK_SIZES);
    encode_option_reply(NBD_OPT_GO, NBD_REP_ACK, {}, w);
    return out;
  }
};

Setup read_setup(fuzz::FuzzInput& in) {
  const std::uint8_t features = in.byte();
  Setup s;
  s.structured = features & 0x01;
  s.extended = features & 0x02;
  s.contexts = (features >> 2) & 3u;
  s.strict = features & 0x10;
  s.pread_initialize = features & 0x20;
  s.block_sizes = features & 0x40;
  s.fail_callbacks = features & 0x80;
  std::uint16_t f = in.be16() | NBD_FLAG_HAS_FLAGS;
  if (!s.payloads()) f &= static_cast<std::uint16_t>(~NBD_FLAG_SEND_DF);
  if (!(f & NBD_FLAG_SEND_WRITE_ZEROES)) f &= static_cast<std::uint16_t>(~NBD_FLAG_SEND_FAST_ZERO);
  if (!s.extended) f &= static_cast<std::uint16_t>(~NBD_FLAG_BLOCK_STATUS_PAYLOAD);
  s.flags = f;
  s.size = SIZES[in.byte() % std::size(SIZES)];
  return s;
}

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

  void play(fuzz::FuzzInput& in) {
    while (!in.empty()) {
      const std::uint8_t tag = in.byte();
      switch (tag % 4) {
        case 0:
          submit(in, tag & 0x80);
          break;
        case 1:
          send();
          break;
        case 2:
          receive(in.take(in.be16()));
          break;
        case 3:
          disconnect(tag & 0x80);
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
  void submit(fuzz::FuzzInput& in, bool from_end) {
    engine::CommandRequest r;
    r.type = TYPES[in.byte() % std::size(TYPES)];
    r.flags = in.byte();
    const std::uint32_t offset = in.be32();
    r.offset = from_end ? setup_.size - offset : offset;
    r.length = in.be16();
    if (commands_.size() == MAX_COMMANDS) return;
    auto& c = commands_.emplace_back(r, contexts_, setup_.fail_callbacks);
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
      FUZZ_REQUIRE(disconnect_requested_);
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
        FUZZ_REQUIRE(disconnect_requested_ && h->flags == 0 && h->offset == 0 && h->length == 0);
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
  fuzz::FuzzInput in({data, size});
  const Setup setup = read_setup(in);
  TransmissionRun run(setup);
  run.handshake();
  run.play(in);
  return 0;
}
