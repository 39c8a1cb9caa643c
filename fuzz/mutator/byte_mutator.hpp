// The byte-level mutator the structure-aware one falls back on: libFuzzer's
// LLVMFuzzerMutate in a fuzzer, any function of the same shape in tests.
// It mutates `size` bytes at `data` in place, may grow them up to
// `max_size`, and returns the new size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace nbdref::fuzz::mutator {

using ByteMutator =
    std::function<std::size_t(std::uint8_t* data, std::size_t size, std::size_t max_size)>;

// Runs `mutate` over `bytes` (nonempty), letting them grow up to `room`
// bytes (never less than their size).
inline void mutate_bytes(const ByteMutator& mutate, std::vector<std::uint8_t>& bytes,
                         std::size_t room) {
  const std::size_t size = bytes.size();
  const std::size_t capacity = room > size ? room : size;
  bytes.resize(capacity);
  const std::size_t result = mutate(bytes.data(), size, capacity);
  bytes.resize(result < capacity ? result : capacity);
}

}  // namespace nbdref::fuzz::mutator
