// Fuzz target "handshake": the engine's negotiation (client/src/engine)
// fed a hostile server's byte stream, the client configured by the input.
// Invariants:
//  - every byte is taken until the connection ends, and an ended
//    connection stays as it ended;
//  - once the server closes, the connection is dead with an error (errno
//    and message), or closed after the caller's NBD_OPT_ABORT;
//  - every option the caller starts (option mode) completes exactly once;
//  - transmission starts only on terms the client asked for and the spec
//    allows (transmission flags, reply forms, meta contexts) and, when TLS
//    is required, only under TLS (C-TLS-018);
//  - what the client sends is well formed: flags the server offered, then
//    only options it was configured or asked to send, only
//    NBD_OPT_EXPORT_NAME without fixed newstyle, nothing but
//    NBD_OPT_STARTTLS or NBD_OPT_ABORT in the clear when TLS is required,
//    and nothing after NBD_OPT_EXPORT_NAME or NBD_OPT_ABORT;
//  - the stream delivered in small pieces ends as it does delivered whole,
//    with the same bytes sent (h11's rule). The pieces are 1 to 8 bytes
//    long, drawn from a generator seeded by the stream itself, so the split
//    points move from input to input and a fuzzing run tries every split of
//    every message (at a quarter of the cost of one byte at a time). After
//    the first SMALL_PIECES pieces (about 2 KiB, more than most
//    negotiations) they grow to up to 4 KiB, so that an input of many
//    kilobytes costs about as much as a short one: the mutator moves
//    messages to the front of the stream, where they are cut finely. In
//    option mode the caller acts between replies, before the server's next
//    bytes, so there pieces stop at the end of each negotiation message and
//    "whole" means one message at a time.
//
// Input: four configuration bytes (read by handshake_setup.hpp, which the
// seed recorder shares), then the server's bytes.
//   byte 0: bit 0 request extended headers, 1 structured replies, 2 block
//           sizes, 3 full info; bits 4-5 how many meta contexts; bit 6
//           option mode; bit 7 export "disk" instead of the default ""
//   byte 1: bits 0-1 TLS (disable, allow, require, disable); bits 2 and 3
//           the client's handshake flags fixed newstyle and no zeroes
//   bytes 2-3: in option mode, up to four options a nibble each (low
//           nibble first, OPTION_KINDS), started in turn whenever the
//           engine waits for the caller; a larger nibble ends the list.
// A TLS handshake the engine asks for succeeds at once; the bytes after
// the server's acknowledgement are then the stream inside TLS.
#include <algorithm>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "engine/connection.hpp"
#include "fuzz_input.hpp"
#include "handshake_setup.hpp"
#include "invariant.hpp"
#include "wire/bytes.hpp"
#include "wire/constants.hpp"
#include "wire/limits.hpp"
#include "wire/option_request.hpp"

namespace {

using namespace nbdref;
using namespace nbdref::wire;
using engine::OptionKind;
using engine::Phase;
using engine::TlsMode;

using fuzz::handshake::read_setup;
using fuzz::handshake::Setup;

class CountingListener : public engine::OptionListener {
 public:
  void on_option_complete(const Result<void>& result) override {
    ++completions;
    FUZZ_REQUIRE(result || result.error().errnum != 0);
  }
  int completions = 0;
};

bool ended(Phase p) {
  return p == Phase::Dead || p == Phase::Closed;
}

bool same_session(const engine::Session& a, const engine::Session& b) {
  const auto same_contexts = [](const engine::MetaContext& x, const engine::MetaContext& y) {
    return x.name == y.name && x.id == y.id;
  };
  const auto same_sizes = [](const engine::BlockSizes& x, const engine::BlockSizes& y) {
    return x.minimum == y.minimum && x.preferred == y.preferred && x.maximum == y.maximum;
  };
  const auto &e = a.export_info, &f = b.export_info;
  return a.greeted == b.greeted && a.protocol == b.protocol &&
         a.server_handshake_flags == b.server_handshake_flags && a.client_flags == b.client_flags &&
         a.tls_negotiated == b.tls_negotiated && a.structured_replies == b.structured_replies &&
         a.extended_headers == b.extended_headers &&
         std::equal(a.meta_contexts.begin(), a.meta_contexts.end(), b.meta_contexts.begin(),
                    b.meta_contexts.end(), same_contexts) &&
         e.known == f.known && e.size == f.size && e.transmission_flags == f.transmission_flags &&
         e.block_sizes.has_value() == f.block_sizes.has_value() &&
         (!e.block_sizes || same_sizes(*e.block_sizes, *f.block_sizes)) &&
         e.canonical_name == f.canonical_name && e.description == f.description;
}

// Piece lengths from a xorshift generator seeded with a hash of the stream
// (FNV-1a over 8-byte words), so the same stream is always cut the same
// way: 1 to 8 bytes for the first SMALL_PIECES pieces, then 1 byte to 4 KiB.
constexpr unsigned SMALL_PIECES = 512;

class Pieces {
 public:
  explicit Pieces(Bytes stream) {
    std::uint64_t hash = 14695981039346656037ull;
    std::size_t at = 0;
    for (; at + 8 <= stream.size(); at += 8) hash = (hash ^ load_be64(&stream[at])) * FNV_PRIME;
    for (; at < stream.size(); ++at) hash = (hash ^ stream[at]) * FNV_PRIME;
    state_ = static_cast<std::uint32_t>(hash ^ (hash >> 32));
    if (state_ == 0) state_ = 1;
  }
  std::size_t operator()() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 17;
    state_ ^= state_ << 5;
    if (count_ < SMALL_PIECES) {
      ++count_;
      return 1 + (state_ & 7u);
    }
    return 1 + (state_ & 4095u);
  }

 private:
  static constexpr std::uint64_t FNV_PRIME = 1099511628211ull;
  std::uint32_t state_;
  unsigned count_ = 0;
};

// One connection played against the stream.
class HandshakeRun {
 public:
  explicit HandshakeRun(const Setup& setup) : setup_(setup), conn_(setup.config) {}

  // Delivers `stream` in the pieces `pieces` cuts (stopping at the end of
  // each negotiation message in option mode), then the server's close, and
  // checks how the connection ended.
  template <class PieceSizes>
  void play(Bytes stream, PieceSizes pieces) {
    for (std::size_t at = 0, piece = 0; at < stream.size(); at += piece) {
      piece = std::min<std::size_t>(pieces(), stream.size() - at);
      if (setup_.config.opt_mode) {
        const std::size_t missing = conn_.negotiation_bytes_missing();
        if (missing > 0) piece = std::min(piece, missing);
      }
      deliver(stream.subspan(at, piece));
    }
    conn_.input_eof();
    note_phase();
    const auto out = conn_.take_output();
    sent_.insert(sent_.end(), out.begin(), out.end());
    check_ending();
    check_sent();
  }

  // The same ending as `other`, which played the same stream in other pieces.
  bool same_ending(const HandshakeRun& other) const {
    const auto& e = conn_.error();
    const auto& f = other.conn_.error();
    return conn_.phase() == other.conn_.phase() && e.has_value() == f.has_value() &&
           (!e || (e->errnum == f->errnum && e->message == f->message)) && sent_ == other.sent_ &&
           in_clear_ == other.in_clear_ && same_session(conn_.session(), other.conn_.session());
  }

 private:
  void deliver(Bytes piece) {
    for (;;) {
      const std::size_t taken = conn_.feed(piece);
      piece = piece.subspan(taken);
      note_phase();
      if (conn_.tls_requested()) {
        // feed() stops taking input while the engine waits for TLS; what
        // is left goes in once the handshake is done.
        establish_tls();
      } else {
        FUZZ_REQUIRE(piece.empty() || ended(conn_.phase()));
      }
      if (piece.empty() || ended(conn_.phase())) break;
    }
    while (conn_.phase() == Phase::Negotiating && next_option_ < setup_.options.size()) {
      start_option(setup_.options[next_option_++]);
    }
  }

  // The caller's TLS handshake, which always succeeds here.
  void establish_tls() {
    const auto out = conn_.take_output();
    sent_.insert(sent_.end(), out.begin(), out.end());
    in_clear_ = sent_.size();
    const auto unread = conn_.take_unread_input();
    conn_.tls_established();
    note_phase();
    if (!unread.empty()) deliver(unread);
  }

  void start_option(OptionKind kind) {
    auto& listener = listeners_.emplace_back();
    started_.push_back(kind);
    // The engine waits for the caller, so it takes the option.
    FUZZ_REQUIRE(conn_.start_option({kind, {}, &listener}).has_value());
    note_phase();
  }

  bool started(OptionKind kind) const {
    return std::find(started_.begin(), started_.end(), kind) != started_.end();
  }

  void note_phase() {
    const Phase p = conn_.phase();
    if (ended_) {
      FUZZ_REQUIRE(p == *ended_);
    } else if (ended(p)) {
      ended_ = p;
    }
    if (p == Phase::Ready) check_transmission_terms();
  }

  void check_transmission_terms() const {
    const auto& s = conn_.session();
    const auto& info = s.export_info;
    const bool payloads = s.structured_replies || s.extended_headers;
    FUZZ_REQUIRE(info.known);
    FUZZ_REQUIRE(info.has(NBD_FLAG_HAS_FLAGS));             // S-TX-015
    FUZZ_REQUIRE(!info.has(NBD_FLAG_SEND_DF) || payloads);  // S-TX-019
    FUZZ_REQUIRE(!info.has(NBD_FLAG_SEND_FAST_ZERO) ||      // S-TX-023
                 info.has(NBD_FLAG_SEND_WRITE_ZEROES));
    FUZZ_REQUIRE(!info.has(NBD_FLAG_BLOCK_STATUS_PAYLOAD) || s.extended_headers);  // X-S-010
    FUZZ_REQUIRE(s.meta_contexts.empty() || payloads);                             // C-BS-009
    for (std::size_t i = 0; i < s.meta_contexts.size(); ++i) {
      for (std::size_t j = 0; j < i; ++j) {
        FUZZ_REQUIRE(s.meta_contexts[i].id != s.meta_contexts[j].id);  // S-BS-037
      }
    }
    FUZZ_REQUIRE(!s.extended_headers || setup_.config.request_extended_headers ||
                 started(OptionKind::ExtendedHeaders));
    FUZZ_REQUIRE(!s.structured_replies || setup_.config.request_structured_replies ||
                 started(OptionKind::StructuredReply));
    FUZZ_REQUIRE(setup_.config.tls != TlsMode::Require || s.tls_negotiated);  // C-TLS-018
  }

  void check_ending() const {
    FUZZ_REQUIRE(ended_.has_value());
    const auto& error = conn_.error();
    if (*ended_ == Phase::Dead) {
      FUZZ_REQUIRE(error && error->errnum != 0 && !error->message.empty());
    } else {
      FUZZ_REQUIRE(started(OptionKind::Abort));
    }
    for (const auto& listener : listeners_) FUZZ_REQUIRE(listener.completions == 1);
  }

  // Whether the client may send `option` at all, given what it was
  // configured and asked to do.
  bool may_send(std::uint32_t option, bool fixed) const {
    const auto& c = setup_.config;
    switch (option) {
      case NBD_OPT_EXTENDED_HEADERS:
        return c.request_extended_headers || started(OptionKind::ExtendedHeaders);
      case NBD_OPT_STRUCTURED_REPLY:
        return c.request_structured_replies || started(OptionKind::StructuredReply);
      case NBD_OPT_SET_META_CONTEXT:
        return !c.meta_contexts.empty() || started(OptionKind::SetMetaContext);
      case NBD_OPT_LIST_META_CONTEXT:
        return started(OptionKind::ListMetaContext);
      case NBD_OPT_GO:
        return !c.opt_mode || started(OptionKind::Go);
      case NBD_OPT_EXPORT_NAME:
        // Plain newstyle knows nothing else; otherwise GO's fallback (C-OPT-005).
        return !fixed || !c.opt_mode || started(OptionKind::Go);
      case NBD_OPT_INFO:
        return started(OptionKind::Info);
      case NBD_OPT_LIST:
        return started(OptionKind::List);
      case NBD_OPT_STARTTLS:
        return c.tls != TlsMode::Disable || started(OptionKind::StartTls);
      case NBD_OPT_ABORT:
        return true;
      default:
        return false;
    }
  }

  void check_option_data(std::uint32_t option, Bytes data) const {
    const auto& c = setup_.config;
    switch (option) {
      case NBD_OPT_GO:
      case NBD_OPT_INFO: {
        const auto req = decode_info_request(data);
        FUZZ_REQUIRE(req && req->export_name == c.export_name);
        for (std::size_t i = 0; i < req->info_types.size(); ++i) {
          const auto type = req->info_types[i];
          FUZZ_REQUIRE(std::count(req->info_types.begin(), req->info_types.end(), type) == 1);
          FUZZ_REQUIRE((type == NBD_INFO_BLOCK_SIZE && c.request_block_size) ||
                       ((type == NBD_INFO_NAME || type == NBD_INFO_DESCRIPTION) && c.full_info));
        }
        return;
      }
      case NBD_OPT_SET_META_CONTEXT:
      case NBD_OPT_LIST_META_CONTEXT: {
        const auto req = decode_meta_context_request(data);
        FUZZ_REQUIRE(req && req->export_name == c.export_name);
        for (const auto query : req->queries) {
          FUZZ_REQUIRE(std::find(c.meta_contexts.begin(), c.meta_contexts.end(), query) !=
                       c.meta_contexts.end());
        }
        return;
      }
      case NBD_OPT_EXPORT_NAME:
        FUZZ_REQUIRE(as_string_view(data) == c.export_name);
        return;
      default:
        FUZZ_REQUIRE(data.empty());  // C-SR-001, X-C-010, C-OPT-006, C-OPT-008, C-TLS-019
        return;
    }
  }

  void check_sent() const {
    const Bytes sent(sent_);
    if (sent.empty()) return;
    const auto& s = conn_.session();
    FUZZ_REQUIRE(s.protocol != engine::Protocol::Oldstyle && sent.size() >= CLIENT_FLAGS_SIZE);
    const std::uint32_t flags = load_be32(sent.data());
    const std::uint32_t offered = s.server_handshake_flags & setup_.config.handshake_flags;
    FUZZ_REQUIRE(flags == s.client_flags);
    FUZZ_REQUIRE(!(flags & NBD_FLAG_C_FIXED_NEWSTYLE) || (offered & NBD_FLAG_FIXED_NEWSTYLE));
    FUZZ_REQUIRE(!(flags & NBD_FLAG_C_NO_ZEROES) || (offered & NBD_FLAG_NO_ZEROES));  // C-HS-012
    FUZZ_REQUIRE((flags & ~KNOWN_CLIENT_FLAGS) == 0);                                 // C-HS-013
    const bool fixed = flags & NBD_FLAG_C_FIXED_NEWSTYLE;
    std::size_t at = CLIENT_FLAGS_SIZE;
    while (at < sent.size()) {
      FUZZ_REQUIRE(sent.size() - at >= OPTION_REQUEST_HEADER_SIZE);
      const auto h = decode_option_request_header(sent.subspan(at, OPTION_REQUEST_HEADER_SIZE));
      FUZZ_REQUIRE(h && h->length <= sent.size() - at - OPTION_REQUEST_HEADER_SIZE);
      const bool in_clear = at < in_clear_;
      FUZZ_REQUIRE(may_send(h->option, fixed));
      FUZZ_REQUIRE(fixed || h->option == NBD_OPT_EXPORT_NAME);
      FUZZ_REQUIRE(h->option != NBD_OPT_STARTTLS || in_clear);  // C-TLS-006
      FUZZ_REQUIRE(!in_clear || setup_.config.tls != TlsMode::Require ||
                   h->option == NBD_OPT_STARTTLS || h->option == NBD_OPT_ABORT);  // C-TLS-018
      check_option_data(h->option, sent.subspan(at + OPTION_REQUEST_HEADER_SIZE, h->length));
      at += OPTION_REQUEST_HEADER_SIZE + h->length;
      // Nothing follows these two (proto.md "Newstyle negotiation", C-HS-004).
      FUZZ_REQUIRE((h->option != NBD_OPT_EXPORT_NAME && h->option != NBD_OPT_ABORT) ||
                   at == sent.size());
    }
  }

  const Setup& setup_;
  engine::Connection conn_;
  std::vector<std::uint8_t> sent_;   // everything the client sent
  std::size_t in_clear_ = SIZE_MAX;  // how much of it before TLS started
  std::optional<Phase> ended_;       // how the connection ended, once it has
  std::size_t next_option_ = 0;
  std::vector<OptionKind> started_;
  std::deque<CountingListener> listeners_;  // one per started option, never moved
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::FuzzInput in({data, size});
  const Setup setup = read_setup(in);
  const Bytes stream = in.rest();

  HandshakeRun in_pieces(setup);
  in_pieces.play(stream, Pieces(stream));
  HandshakeRun whole(setup);
  whole.play(stream, [&] { return std::max<std::size_t>(stream.size(), 1); });
  FUZZ_REQUIRE(whole.same_ending(in_pieces));
  return 0;
}
