// The parts of a READ request already covered by content chunks: disjoint,
// sorted, merged intervals. Detects overlapping chunks (S-SR-022) and
// missing coverage at success.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace nbdref::engine {

class RangeSet {
 public:
  // Adds [start, end) unless it overlaps what is already there; returns
  // whether it was added.
  bool insert_disjoint(std::uint64_t start, std::uint64_t end);
  std::uint64_t covered() const { return covered_; }
  // Keeps the storage for the next command.
  void clear() {
    ranges_.clear();
    covered_ = 0;
  }

 private:
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges_;
  std::uint64_t covered_ = 0;
};

}  // namespace nbdref::engine
