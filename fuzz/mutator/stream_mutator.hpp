// Structure-aware mutations of a server's byte stream, seen as NBD messages
// (nbd_stream.hpp): change a field to a value meaningful for it, grow or
// shrink a payload, mutate one message's bytes, insert a message made from a
// template, duplicate, delete or swap messages, cut the stream short, or
// fall back on the byte mutator for the whole stream; and crossover, which
// splices messages of two streams. The same seed gives the same result, and
// no result is longer than the size asked for.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "mutator/byte_mutator.hpp"
#include "mutator/nbd_stream.hpp"
#include "mutator/random.hpp"
#include "mutator/stream_facts.hpp"
#include "wire/bytes.hpp"

namespace nbdref::fuzz::mutator {

enum class StreamMutation : std::uint8_t {
  Field,          // a header or payload field (message_fields.hpp) gets a new value
  ResizePayload,  // bytes inserted into or removed from a payload or raw run
  MessageBytes,   // the byte mutator on one message (its payload, or all of it)
  Insert,         // a message from a template (message_templates.hpp)
  Duplicate,
  Delete,
  SwapAdjacent,
  Truncate,     // the stream ends inside a message
  StreamBytes,  // the byte mutator on the whole stream
};

// Keep: every length field keeps agreeing with its payload and every header
// stays a header (no magic or length field changes, no cut, no byte
// mutation outside payloads), so a stream of whole messages splits into
// the same messages. (A raw run may hold a header cut short, which the
// bytes that come to follow it can complete.)
// Vary: lengths are kept three times in four, and anything goes.
enum class LengthPolicy : std::uint8_t { Keep, Vary };

class StreamMutator {
 public:
  StreamMutator(Random& random, ByteMutator bytes, LengthPolicy lengths = LengthPolicy::Vary)
      : random_(random), bytes_(std::move(bytes)), lengths_(lengths) {}

  // One mutation (another when the one drawn does not apply); at most
  // `max_size` bytes. `known` adds to the facts the stream shows.
  std::vector<std::uint8_t> mutate(wire::Bytes stream, std::size_t max_size,
                                   const StreamFacts& known = {});
  // The messages of `a` and `b` spliced; at most `max_size` bytes.
  std::vector<std::uint8_t> cross_over(wire::Bytes a, wire::Bytes b, std::size_t max_size);

  // The mutation named; false (and the stream unchanged) when it does not
  // apply, as deleting from an empty stream. `max_size` bounds growth.
  bool apply(StreamMutation mutation, Stream& stream, std::size_t max_size,
             const StreamFacts& facts);
  // A run of `a`'s messages, then a run of `b`'s, then possibly the rest of
  // `a`: at least one message of each when both have some.
  Stream cross_over(const Stream& a, const Stream& b);

 private:
  bool keep() const { return lengths_ == LengthPolicy::Keep; }
  // A payload, or a raw run, that resizing and byte mutation may change.
  bool has_body(const Message& m) const;
  // Lengths follow the payload: always under Keep, three times in four under Vary.
  void settle_length(Message& m);

  bool mutate_field_of(Stream& stream, const StreamFacts& facts);
  bool resize_payload(Stream& stream, std::size_t max_size);
  bool mutate_message_bytes(Stream& stream, std::size_t max_size);
  void insert(Stream& stream, const StreamFacts& facts);
  bool truncate(Stream& stream);
  void mutate_stream_bytes(Stream& stream, std::size_t max_size);

  Random& random_;
  ByteMutator bytes_;
  LengthPolicy lengths_;
};

}  // namespace nbdref::fuzz::mutator
