// The record of one probe connection: every message sent and received, in
// order, described in protocol terms with its bytes, plus notes (a close, a
// timeout). It is the evidence a failed check shows, and what -v prints.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace nbdref::conform {

class Transcript {
 public:
  enum class Direction { Sent, Received, Note };

  struct Entry {
    Direction direction;
    std::chrono::microseconds at;     // since the transcript began
    std::string description;          // "NBD_OPT_LIST (3), no data"
    std::vector<std::uint8_t> bytes;  // the first BYTES_KEPT of them
    std::size_t byte_count = 0;       // how many there were
  };

  // Bytes beyond this many per message are counted, not kept.
  static constexpr std::size_t BYTES_KEPT = 256;

  explicit Transcript(std::string label);

  const std::string& label() const { return label_; }
  const std::vector<Entry>& entries() const { return entries_; }

  void sent(std::string description, std::span<const std::uint8_t> bytes);
  void received(std::string description, std::span<const std::uint8_t> bytes);
  void note(std::string text);
  // Notes how the server process started for this connection ended;
  // `crashed` when a signal killed it.
  void server_ended(std::string how, bool crashed);
  bool server_crashed() const { return server_crashed_; }

  // One line per entry: "+12.345ms C> NBD_OPT_LIST (3), no data [16 bytes]",
  // "S<" for the server, "--" for notes; with `hex`, the kept bytes under
  // each. At most `max_entries` entries, the last ones, are shown.
  std::string text(bool hex, std::size_t max_entries = 200) const;

 private:
  void add(Direction d, std::string description, std::span<const std::uint8_t> bytes);

  std::string label_;
  std::chrono::steady_clock::time_point start_;
  std::vector<Entry> entries_;
  bool server_crashed_ = false;
};

}  // namespace nbdref::conform
