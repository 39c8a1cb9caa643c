#include "probe/transcript.hpp"

#include <algorithm>
#include <cstdio>

namespace nbdref::conform {
namespace {

const char* arrow(Transcript::Direction d) {
  switch (d) {
    case Transcript::Direction::Sent:
      return "C>";
    case Transcript::Direction::Received:
      return "S<";
    case Transcript::Direction::Note:
      return "--";
  }
  return "--";
}

void append_hex(std::string& out, const Transcript::Entry& e) {
  constexpr std::size_t kPerLine = 16;
  char buf[8];
  for (std::size_t i = 0; i < e.bytes.size(); i += kPerLine) {
    out += "            ";
    for (std::size_t j = i; j < std::min(i + kPerLine, e.bytes.size()); ++j) {
      std::snprintf(buf, sizeof buf, " %02x", e.bytes[j]);
      out += buf;
    }
    out += '\n';
  }
  if (e.byte_count > e.bytes.size()) {
    out += "             ... " + std::to_string(e.byte_count - e.bytes.size()) + " more bytes\n";
  }
}

}  // namespace

Transcript::Transcript(std::string label)
    : label_(std::move(label)), start_(std::chrono::steady_clock::now()) {}

void Transcript::sent(std::string description, std::span<const std::uint8_t> bytes) {
  add(Direction::Sent, std::move(description), bytes);
}

void Transcript::received(std::string description, std::span<const std::uint8_t> bytes) {
  add(Direction::Received, std::move(description), bytes);
}

void Transcript::note(std::string text) {
  add(Direction::Note, std::move(text), {});
}

void Transcript::server_ended(std::string how, bool crashed) {
  server_crashed_ = server_crashed_ || crashed;
  note(std::move(how));
}

void Transcript::add(Direction d, std::string description, std::span<const std::uint8_t> bytes) {
  Entry e;
  e.direction = d;
  e.at = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                               start_);
  e.description = std::move(description);
  e.byte_count = bytes.size();
  e.bytes.assign(bytes.begin(), bytes.begin() + std::min(bytes.size(), BYTES_KEPT));
  entries_.push_back(std::move(e));
}

std::string Transcript::text(bool hex, std::size_t max_entries) const {
  std::string out;
  std::size_t first = 0;
  if (entries_.size() > max_entries) {
    first = entries_.size() - max_entries;
    out += "  (" + std::to_string(first) + " earlier entries omitted)\n";
  }
  char stamp[32];
  for (std::size_t i = first; i < entries_.size(); ++i) {
    const Entry& e = entries_[i];
    std::snprintf(stamp, sizeof stamp, "%+9.3fms ", static_cast<double>(e.at.count()) / 1000.0);
    out += "  ";
    out += stamp;
    out += arrow(e.direction);
    out += ' ';
    out += e.description;
    if (e.direction != Direction::Note) out += " [" + std::to_string(e.byte_count) + " bytes]";
    out += '\n';
    if (hex) append_hex(out, e);
  }
  return out;
}

}  // namespace nbdref::conform
