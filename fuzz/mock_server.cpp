// Fuzz target "mock_server": the mock server's RAM-disk backend
// (mockserver/src/server, ServerSession), which faces third-party clients,
// fed a hostile client's byte stream.
// Invariants:
//  - the session takes every byte until it finishes, or until its output
//    reaches OUTPUT_HIGH_WATER (then it takes more once the output is
//    taken), so input is consumed in bounded steps and output stays bounded;
//  - a session that dropped a client for a violation has finished, and a
//    finished session takes nothing more;
//  - the stream delivered whole and delivered one byte at a time give the
//    same replies, the same negotiation and the same ending;
//  - the disks hold no more memory than their size.
// Input: two configuration bytes, then the client's bytes.
//   byte 0: bit 0 oldstyle, 1 fixed newstyle, 2 no zeroes, 3 NBD_OPT_LIST,
//           4 INFO and GO, 5 structured replies, 6 extended headers (with
//           INFO and GO only, X-S-025), 7 base:allocation
//   byte 1: bit 0 read-only, 1 block sizes (512, 4096, 32 KiB), 2 a second
//           export, 3 a 1 KiB option length limit; bits 4-5 where the
//           session starts (greeting, after the greeting, in options, in
//           transmission); in transmission, bit 6 extended headers (bit 5
//           of byte 0 for structured replies) and bit 7 base:allocation as
//           context 1
#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

#include "fuzz_input.hpp"
#include "invariant.hpp"
#include "server/server_session.hpp"
#include "wire/constants.hpp"

namespace {

using namespace nbdref;
using namespace nbdref::mock;

constexpr std::uint64_t DISK_SIZE = 64 * 1024;
constexpr std::uint64_t OTHER_DISK_SIZE = 4096;

enum class Start { Greeting, AfterGreeting, InOptions, InTransmission };

struct Setup {
  std::uint8_t server = 0;
  std::uint8_t exports = 0;

  Start start() const { return static_cast<Start>((exports >> 4) & 3u); }
  bool structured() const { return server & 0x20; }
  bool extended() const { return exports & 0x40; }
  std::optional<std::uint32_t> allocation_context() const {
    return (exports & 0x80) ? std::optional<std::uint32_t>(1) : std::nullopt;
  }

  // A fresh configuration: each delivery gets disks of its own.
  ServeConfig config() const {
    ServeConfig c;
    c.oldstyle = server & 0x01;
    c.fixed_newstyle = server & 0x02;
    c.no_zeroes = server & 0x04;
    c.list = server & 0x08;
    c.info_and_go = server & 0x10;
    c.structured_replies = structured();
    c.extended_headers = (server & 0x40) && c.info_and_go;  // X-S-025
    c.meta_contexts = server & 0x80;
    if (exports & 0x08) c.max_option_length = 1024;
    ExportConfig disk;
    disk.name = "disk";
    disk.description = "the fuzzed disk";
    disk.size = DISK_SIZE;
    disk.read_only = exports & 0x01;
    if (exports & 0x02) {
      disk.minimum_block = 512;
      disk.preferred_block = 4096;
      disk.maximum_payload = 32 * 1024;
    }
    c.exports.push_back(make_served_export(disk));
    if (exports & 0x04) {
      ExportConfig other;
      other.name = "other";
      other.size = OTHER_DISK_SIZE;
      other.flush = other.trim = other.df = false;
      c.exports.push_back(make_served_export(other));
    }
    return c;
  }
};

class ServeRun {
 public:
  explicit ServeRun(const Setup& setup) : config_(setup.config()), session_(config_) {
    FUZZ_REQUIRE(!config_problem(config_));
  }

  // Starts the session; false when it cannot start there.
  bool start(const Setup& setup) {
    switch (setup.start()) {
      case Start::Greeting:
        session_.start_with_greeting();
        return true;
      case Start::AfterGreeting:
        session_.start_after_greeting();
        return true;
      case Start::InOptions:
        session_.start_in_options(wire::NBD_FLAG_C_FIXED_NEWSTYLE | wire::NBD_FLAG_C_NO_ZEROES);
        return true;
      case Start::InTransmission:
        return session_.start_in_transmission("disk", setup.structured(), setup.extended(),
                                              setup.allocation_context());
    }
    return false;
  }

  // Delivers `stream` in pieces of `piece` bytes and checks the session.
  void play(wire::Bytes stream, std::size_t piece) {
    for (std::size_t at = 0; at < stream.size(); at += piece) {
      deliver(stream.subspan(at, std::min(piece, stream.size() - at)));
    }
    collect();
    for (const auto& e : config_.exports) {
      const auto& disk = *e.disk;
      FUZZ_REQUIRE(disk.allocated_pages() <=
                   (disk.size() + disk.page_size() - 1) / disk.page_size());
    }
  }

  bool same_ending(const ServeRun& other) const {
    const auto &n = session_.negotiation(), &m = other.session_.negotiation();
    return sent_ == other.sent_ && session_.phase() == other.session_.phase() &&
           session_.client_violation().has_value() ==
               other.session_.client_violation().has_value() &&
           session_.end_reason() == other.session_.end_reason() &&
           n.client_flags == m.client_flags && n.structured_replies == m.structured_replies &&
           n.extended_headers == m.extended_headers &&
           n.allocation_selected == m.allocation_selected && n.context_export == m.context_export;
  }

 private:
  void deliver(wire::Bytes piece) {
    while (!piece.empty()) {
      const bool finished_before = session_.finished();
      const std::size_t taken = session_.feed(piece);
      FUZZ_REQUIRE(taken <= piece.size());
      FUZZ_REQUIRE(!finished_before || taken == 0);
      FUZZ_REQUIRE(!session_.client_violation() || session_.finished());
      if (session_.finished()) return;
      // Short only while the output is full: taking it lets the rest in.
      FUZZ_REQUIRE(taken == piece.size() ||
                   session_.output_size() >= ServerSession::OUTPUT_HIGH_WATER);
      piece = piece.subspan(taken);
      collect();
    }
  }

  void collect() {
    const auto out = session_.take_output();
    sent_.insert(sent_.end(), out.begin(), out.end());
  }

  ServeConfig config_;  // shares the disks with the session's copy
  ServerSession session_;
  std::vector<std::uint8_t> sent_;  // everything the server sent
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::FuzzInput in({data, size});
  Setup setup;
  setup.server = in.byte();
  setup.exports = in.byte();
  const wire::Bytes stream = in.rest();

  ServeRun whole(setup);
  ServeRun bytewise(setup);
  const bool started = whole.start(setup);
  FUZZ_REQUIRE(bytewise.start(setup) == started);
  // Block status needs chunks (S-BS-004): the only way not to start.
  FUZZ_REQUIRE(started || (setup.allocation_context() && !setup.structured() && !setup.extended()));
  if (!started) return 0;
  whole.play(stream, std::max<std::size_t>(stream.size(), 1));
  bytewise.play(stream, 1);
  FUZZ_REQUIRE(whole.same_ending(bytewise));
  return 0;
}
