// How byte-exchange tests deliver a message to a parser (DESIGN.md h11):
// whole, one byte at a time, or split in two, and every test must see the
// same events in each mode. Shared by the engine tests (server bytes to the
// client) and the mock-server tests (client bytes to the server).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "wire/bytes.hpp"

namespace nbdref::test {

enum class FeedMode { Whole, Bytewise, Split };

inline std::string feed_mode_name(FeedMode m) {
  switch (m) {
    case FeedMode::Whole:
      return "Whole";
    case FeedMode::Bytewise:
      return "Bytewise";
    case FeedMode::Split:
      return "Split";
  }
  return "?";
}

// `all` cut into the pieces `mode` delivers; no piece is empty.
inline std::vector<wire::Bytes> feed_pieces(FeedMode mode, wire::Bytes all) {
  std::vector<wire::Bytes> pieces;
  if (all.empty()) return pieces;
  switch (mode) {
    case FeedMode::Whole:
      pieces.push_back(all);
      break;
    case FeedMode::Bytewise:
      for (std::size_t i = 0; i < all.size(); ++i) pieces.push_back(all.subspan(i, 1));
      break;
    case FeedMode::Split: {
      const std::size_t half = all.size() / 2 + 1;
      pieces.push_back(all.first(std::min(half, all.size())));
      if (half < all.size()) pieces.push_back(all.subspan(half));
      break;
    }
  }
  return pieces;
}

}  // namespace nbdref::test
