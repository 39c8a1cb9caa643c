#include "server/transcript.hpp"

#include <algorithm>

namespace nbdref::mock {

void Transcript::server_sent(std::string description, std::span<const std::uint8_t> bytes) {
  add(Direction::ServerSent, std::move(description), bytes);
}

void Transcript::client_sent(std::string description, std::span<const std::uint8_t> bytes) {
  add(Direction::ClientSent, std::move(description), bytes);
}

void Transcript::note(std::string text) {
  add(Direction::Note, std::move(text), {});
}

void Transcript::add(Direction d, std::string description, std::span<const std::uint8_t> bytes) {
  Entry e{d, std::move(description), {}, bytes.size()};
  const std::size_t kept = std::min(bytes.size(), BYTES_KEPT);
  e.bytes.assign(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(kept));
  const std::lock_guard<std::mutex> lock(mutex_);
  entries_.push_back(std::move(e));
}

std::vector<Transcript::Entry> Transcript::entries() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return entries_;
}

std::string Transcript::text(bool with_bytes) const {
  const auto all = entries();
  std::string out;
  for (const Entry& e : all) {
    switch (e.direction) {
      case Direction::ServerSent:
        out += "S: ";
        break;
      case Direction::ClientSent:
        out += "C: ";
        break;
      case Direction::Note:
        out += "-- ";
        break;
    }
    out += e.description;
    out += '\n';
    if (!with_bytes || e.byte_count == 0) continue;
    // 16 bytes a line: "   0000  4e 42 44 4d ..."
    static constexpr char HEX[] = "0123456789abcdef";
    for (std::size_t i = 0; i < e.bytes.size(); i += 16) {
      out += "   ";
      for (int shift = 12; shift >= 0; shift -= 4) out += HEX[(i >> shift) & 0xf];
      out += ' ';
      for (std::size_t j = i; j < std::min(i + 16, e.bytes.size()); ++j) {
        out += ' ';
        out += HEX[e.bytes[j] >> 4];
        out += HEX[e.bytes[j] & 0xf];
      }
      out += '\n';
    }
    if (e.byte_count > e.bytes.size()) {
      out += "   ... " + std::to_string(e.byte_count - e.bytes.size()) + " more bytes\n";
    }
  }
  return out;
}

}  // namespace nbdref::mock
