// Mutations of the transmission target's input (../transmission_input.hpp):
// the server's replies inside one receive operation mutated as NBD messages
// (stream_mutator.hpp); operations inserted (a submit with meaningful
// fields, a send, a receive of replies made from templates, a disconnect),
// deleted, duplicated or swapped; a receive split in two (the replies then
// arrive in two pieces) or two merged; a submit's field or a configuration
// byte changed; now and then the byte mutator over the whole input.
// Replies fit the configuration: the chunk form it negotiates, cookies the
// engine hands out (1, 2, ... in submission order), its context ids.
// Whatever the mutation, the result decodes into whole operations.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "mutator/byte_mutator.hpp"
#include "mutator/random.hpp"
#include "mutator/stream_facts.hpp"
#include "transmission_input.hpp"
#include "wire/bytes.hpp"

namespace nbdref::fuzz::mutator {

enum class TransmissionMutation : std::uint8_t {
  Receive,  // the stream mutator on one receive's bytes
  InsertOperation,
  DeleteOperation,
  DuplicateOperation,
  SwapOperations,
  SplitReceive,
  MergeReceives,
  SubmitField,
  Config,
  Bytes,  // the byte mutator on the whole input, then the operations made whole
};

class TransmissionMutator {
 public:
  TransmissionMutator(Random& random, ByteMutator bytes)
      : random_(random), bytes_(std::move(bytes)) {}

  // One mutation; at most `max_size` bytes.
  std::vector<std::uint8_t> mutate(wire::Bytes input, std::size_t max_size);
  // `a`'s operations up to a point then `b`'s from one, or one of `a`'s
  // receives spliced with one of `b`'s; at most `max_size` bytes.
  std::vector<std::uint8_t> cross_over(wire::Bytes a, wire::Bytes b, std::size_t max_size);

  // The mutation named, on a decoded input; false (input unchanged) when it
  // does not apply. Bytes is not one of these: it works on the encoding.
  bool apply(TransmissionMutation mutation, transmission::TransmissionInput& input,
             std::size_t max_size);

  // What the configuration and every receive say about the replies.
  static StreamFacts facts_of(const transmission::TransmissionInput& input);

 private:
  transmission::Operation new_operation(const StreamFacts& facts);
  bool mutate_receive(transmission::TransmissionInput& input, std::size_t max_size);
  bool split_receive(transmission::TransmissionInput& input);
  bool merge_receives(transmission::TransmissionInput& input);
  bool mutate_submit(transmission::TransmissionInput& input);

  Random& random_;
  ByteMutator bytes_;
};

}  // namespace nbdref::fuzz::mutator
