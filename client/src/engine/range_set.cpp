#include "engine/range_set.hpp"

#include <algorithm>

namespace nbdref::engine {

bool RangeSet::insert_disjoint(std::uint64_t start, std::uint64_t end) {
  // First range that ends after `start`: the only one that could overlap.
  auto it = std::lower_bound(ranges_.begin(), ranges_.end(), start,
                             [](const auto& r, std::uint64_t v) { return r.second <= v; });
  if (it != ranges_.end() && it->first < end) return false;
  covered_ += end - start;
  // Merge with touching neighbours: chunks usually arrive in order, which
  // keeps the set at one range.
  const bool joins_next = it != ranges_.end() && it->first == end;
  const bool joins_prev = it != ranges_.begin() && std::prev(it)->second == start;
  if (joins_prev && joins_next) {
    std::prev(it)->second = it->second;
    ranges_.erase(it);
  } else if (joins_prev) {
    std::prev(it)->second = end;
  } else if (joins_next) {
    it->first = start;
  } else {
    ranges_.insert(it, {start, end});
  }
  return true;
}

}  // namespace nbdref::engine
