// The offsets a workload visits: whole blocks of a range, either in order
// (wrapping at the end of the range) or uniformly at random, from a seeded
// generator so every run of a workload asks for the same offsets.
#pragma once

#include <cstdint>

#include "bench_options.hpp"

namespace nbdref::bench {

class OffsetSequence {
 public:
  // [begin, begin + blocks * block_size); blocks >= 1.
  OffsetSequence(AccessPattern pattern, std::uint64_t begin, std::uint64_t blocks,
                 std::uint64_t block_size, std::uint64_t seed);

  std::uint64_t next();

 private:
  AccessPattern pattern_;
  std::uint64_t begin_;
  std::uint64_t blocks_;
  std::uint64_t block_size_;
  std::uint64_t position_ = 0;  // sequential: the next block
  std::uint64_t state_;         // random: splitmix64 state
};

}  // namespace nbdref::bench
