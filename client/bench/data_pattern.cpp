// The offset pattern, written and checked a word at a time.
#include "data_pattern.hpp"

#include <endian.h>

#include <cstring>

namespace nbdref::bench {

void fill_offset_pattern(std::span<std::byte> block, std::uint64_t offset) {
  for (std::size_t i = 0; i < block.size(); i += 8) {
    const std::uint64_t word = htobe64(offset + i);
    std::memcpy(block.data() + i, &word, block.size() - i < 8 ? block.size() - i : 8);
  }
}

std::optional<std::uint64_t> first_pattern_mismatch(std::span<const std::byte> block,
                                                    std::uint64_t offset) {
  for (std::size_t i = 0; i < block.size(); i += 8) {
    const std::uint64_t word = htobe64(offset + i);
    const std::size_t n = block.size() - i < 8 ? block.size() - i : 8;
    if (std::memcmp(block.data() + i, &word, n) != 0) {
      const auto* expected = reinterpret_cast<const std::byte*>(&word);
      std::size_t j = 0;
      while (block[i + j] == expected[j]) ++j;
      return offset + i + j;
    }
  }
  return std::nullopt;
}

}  // namespace nbdref::bench
