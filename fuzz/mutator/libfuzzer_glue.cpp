// libFuzzer's custom mutator and crossover for a fuzz target, by the layout
// of its input, which a compile definition names:
//   NBDREF_FUZZ_CONFIG_BYTES=N  N configuration bytes, then the server's
//                               stream (prefix_layout.hpp);
//   NBDREF_FUZZ_TRANSMISSION_INPUT  the "transmission" target's operations
//                               (transmission_mutator.hpp).
// Compiled into fuzz_<target> only: the replay driver fuzz_replay_<target>
// has no libFuzzer, hence no LLVMFuzzerMutate.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "mutator/libfuzzer_byte_mutator.hpp"
#include "mutator/random.hpp"
#include "wire/bytes.hpp"

#if defined(NBDREF_FUZZ_TRANSMISSION_INPUT)
#include "mutator/transmission_mutator.hpp"
#elif defined(NBDREF_FUZZ_CONFIG_BYTES)
#include "mutator/prefix_layout.hpp"
#else
#error "define NBDREF_FUZZ_CONFIG_BYTES or NBDREF_FUZZ_TRANSMISSION_INPUT: the layout of the input"
#endif

namespace {

using namespace nbdref::fuzz::mutator;
using nbdref::wire::Bytes;

#if defined(NBDREF_FUZZ_TRANSMISSION_INPUT)
std::vector<std::uint8_t> mutate(Bytes input, std::size_t max_size, Random& random) {
  return TransmissionMutator(random, libfuzzer_byte_mutator()).mutate(input, max_size);
}
std::vector<std::uint8_t> cross_over(Bytes a, Bytes b, std::size_t max_size, Random& random) {
  return TransmissionMutator(random, libfuzzer_byte_mutator()).cross_over(a, b, max_size);
}
#else
std::vector<std::uint8_t> mutate(Bytes input, std::size_t max_size, Random& random) {
  return mutate_prefixed(input, NBDREF_FUZZ_CONFIG_BYTES, max_size, random,
                         libfuzzer_byte_mutator());
}
std::vector<std::uint8_t> cross_over(Bytes a, Bytes b, std::size_t max_size, Random& random) {
  return cross_over_prefixed(a, b, NBDREF_FUZZ_CONFIG_BYTES, max_size, random);
}
#endif

// Copies `result` to `to`; returns its size.
std::size_t deliver(const std::vector<std::uint8_t>& result, std::uint8_t* to) {
  std::copy(result.begin(), result.end(), to);
  return result.size();
}

}  // namespace

extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size,
                                               std::size_t max_size, unsigned int seed) {
  Random random(seed);
  return deliver(mutate({data, size}, max_size, random), data);
}

extern "C" std::size_t LLVMFuzzerCustomCrossOver(const std::uint8_t* data1, std::size_t size1,
                                                 const std::uint8_t* data2, std::size_t size2,
                                                 std::uint8_t* out, std::size_t max_out_size,
                                                 unsigned int seed) {
  Random random(seed);
  return deliver(cross_over({data1, size1}, {data2, size2}, max_out_size, random), out);
}
