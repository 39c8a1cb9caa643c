// What passed over one connection, for people: each message the server sent
// or read, in order, described in protocol terms, with the bytes in hex on
// request. The player fills it; `nbdref-mock --transcript` prints it.
#pragma once

#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace nbdref::mock {

class Transcript {
 public:
  enum class Direction { ServerSent, ClientSent, Note };

  struct Entry {
    Direction direction;
    std::string description;  // "NBD_REP_INFO for NBD_OPT_GO: NBD_INFO_EXPORT size 1048576 ..."
    std::vector<std::uint8_t> bytes;  // at most BYTES_KEPT of them
    std::size_t byte_count = 0;       // how many there were
  };

  // Bytes beyond this many per entry are counted, not kept.
  static constexpr std::size_t BYTES_KEPT = 256;

  void server_sent(std::string description, std::span<const std::uint8_t> bytes);
  void client_sent(std::string description, std::span<const std::uint8_t> bytes);
  void note(std::string text);

  std::vector<Entry> entries() const;
  // One line per entry ("S: ...", "C: ...", "-- ..."), and with
  // `with_bytes` a hex dump under each.
  std::string text(bool with_bytes = false) const;

 private:
  void add(Direction d, std::string description, std::span<const std::uint8_t> bytes);

  mutable std::mutex mutex_;
  std::vector<Entry> entries_;
};

}  // namespace nbdref::mock
