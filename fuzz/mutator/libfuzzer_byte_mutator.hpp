// libFuzzer's own byte mutator (LLVMFuzzerMutate: its mutations, the -dict=
// words and the comparison operands it saw), for libfuzzer_glue.cpp only.
// Declared weak: engines that run libFuzzer targets without being libFuzzer
// (OSS-Fuzz's AFL++ or honggfuzz, through NBDREF_FUZZ_ENGINE) may not
// define it; the byte fallback then leaves the bytes as they are.
#pragma once

#include <cstddef>
#include <cstdint>

#include "mutator/byte_mutator.hpp"

extern "C" __attribute__((weak)) std::size_t LLVMFuzzerMutate(std::uint8_t* data, std::size_t size,
                                                              std::size_t max_size);

namespace nbdref::fuzz::mutator {

inline ByteMutator libfuzzer_byte_mutator() {
  if (LLVMFuzzerMutate != nullptr) return LLVMFuzzerMutate;
  return [](std::uint8_t*, std::size_t size, std::size_t) { return size; };
}

}  // namespace nbdref::fuzz::mutator
