// Edits both mutators make to a sequence -- a stream's messages
// (stream_mutator.hpp), the transmission input's operations
// (transmission_mutator.hpp). Each returns false, the sequence unchanged,
// when it does not apply.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "mutator/random.hpp"

namespace nbdref::fuzz::mutator {

// One item removed.
template <class T>
bool delete_one(std::vector<T>& items, Random& random) {
  if (items.empty()) return false;
  items.erase(items.begin() + static_cast<std::ptrdiff_t>(random.below(items.size())));
  return true;
}

// Two neighbours swapped.
template <class T>
bool swap_adjacent(std::vector<T>& items, Random& random) {
  if (items.size() < 2) return false;
  const std::size_t i = random.below(items.size() - 1);
  std::swap(items[i], items[i + 1]);
  return true;
}

}  // namespace nbdref::fuzz::mutator
