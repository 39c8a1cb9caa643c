// Inputs made of a few configuration bytes, then the server's byte stream
// (fuzz/handshake.cpp: 4 bytes; fuzz/client_socket.cpp likewise): the
// configuration is mutated now and then, the stream mostly structurally,
// and sometimes the whole input goes to the byte mutator. A short input
// reads as zeros past its end (fuzz_input.hpp), so one shorter than its
// configuration is padded with zeros first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "mutator/byte_mutator.hpp"
#include "mutator/random.hpp"
#include "wire/bytes.hpp"

namespace nbdref::fuzz::mutator {

std::vector<std::uint8_t> mutate_prefixed(wire::Bytes input, std::size_t config_bytes,
                                          std::size_t max_size, Random& random,
                                          const ByteMutator& bytes);

// `a`'s or `b`'s configuration, then their streams spliced.
std::vector<std::uint8_t> cross_over_prefixed(wire::Bytes a, wire::Bytes b,
                                              std::size_t config_bytes, std::size_t max_size,
                                              Random& random);

}  // namespace nbdref::fuzz::mutator
