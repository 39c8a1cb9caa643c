#include "human_size.hpp"

#include <iterator>

namespace nbdref::info {

std::string human_size(std::uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  unsigned unit = 0;
  while (unit + 1 < std::size(kUnits) && (bytes >> (10 * (unit + 1))) != 0) ++unit;
  const unsigned shift = 10 * unit;
  const std::uint64_t whole = bytes >> shift;
  const std::uint64_t rest = bytes - (whole << shift);
  std::string text = std::to_string(whole);
  // rest < 2^60, so rest * 10 cannot overflow.
  if (rest != 0) text += "." + std::to_string((rest * 10) >> shift);
  return text + " " + kUnits[unit];
}

}  // namespace nbdref::info
