#include "extent_meaning.hpp"

namespace nbdref::info {
namespace {

// proto.md "base:allocation metadata context".
constexpr std::uint64_t kStateHole = 1;  // NBD_STATE_HOLE
constexpr std::uint64_t kStateZero = 2;  // NBD_STATE_ZERO

}  // namespace

std::optional<std::string> extent_meaning(std::string_view context, std::uint64_t flags) {
  if (context != "base:allocation") return std::nullopt;
  // Other bits carry no meaning yet and are ignored (C-BS-004); the flags
  // column still shows them.
  const bool hole = flags & kStateHole;
  const bool zero = flags & kStateZero;
  if (hole && zero) return "hole,zero";
  if (hole) return "hole";
  if (zero) return "zero";
  return "data";
}

}  // namespace nbdref::info
