// The data of --verify runs: every 8-byte word of the export holds its own
// byte offset, big-endian (the data nbdkit's pattern plugin serves). Any
// block can be checked on its own, and a block that lands at the wrong
// offset is caught as surely as a wrong byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace nbdref::bench {

// Fills `block`, which starts at export offset `offset` (a multiple of 8).
void fill_offset_pattern(std::span<std::byte> block, std::uint64_t offset);

// The export offset of the first byte of `block` (read from `offset`, a
// multiple of 8) that is not the pattern's, if any.
std::optional<std::uint64_t> first_pattern_mismatch(std::span<const std::byte> block,
                                                    std::uint64_t offset);

}  // namespace nbdref::bench
