// Block offsets in order or at random.
#include "offset_sequence.hpp"

namespace nbdref::bench {

OffsetSequence::OffsetSequence(AccessPattern pattern, std::uint64_t begin, std::uint64_t blocks,
                               std::uint64_t block_size, std::uint64_t seed)
    : pattern_(pattern), begin_(begin), blocks_(blocks), block_size_(block_size), state_(seed) {}

std::uint64_t OffsetSequence::next() {
  std::uint64_t block;
  if (pattern_ == AccessPattern::Sequential) {
    block = position_;
    if (++position_ == blocks_) position_ = 0;
  } else {
    // splitmix64: cheap, and good enough that every block is equally likely.
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    block = (z ^ (z >> 31)) % blocks_;
  }
  return begin_ + block * block_size_;
}

}  // namespace nbdref::bench
