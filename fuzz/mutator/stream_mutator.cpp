#include "mutator/stream_mutator.hpp"

#include <algorithm>
#include <iterator>

#include "mutator/field_mutation.hpp"
#include "mutator/message_fields.hpp"
#include "mutator/message_templates.hpp"
#include "mutator/sequence_edits.hpp"

namespace nbdref::fuzz::mutator {
namespace {

using M = StreamMutation;

// How often each mutation is drawn.
constexpr Weighted<StreamMutation> WEIGHTS[] = {
    {M::Field, 6},        {M::ResizePayload, 2}, {M::MessageBytes, 2},
    {M::Insert, 4},       {M::Duplicate, 2},     {M::Delete, 2},
    {M::SwapAdjacent, 2}, {M::Truncate, 1},      {M::StreamBytes, 3},
};

std::size_t total_size(const Stream& stream) {
  std::size_t n = 0;
  for (const Message& m : stream) n += m.bytes.size();
  return n;
}

std::size_t minus(std::size_t a, std::size_t b) {
  return a > b ? a - b : 0;
}

// Room for message `i` to grow to, the rest of the stream staying within max_size.
std::size_t room_for(const Stream& stream, std::size_t i, std::size_t max_size) {
  return minus(max_size, total_size(stream) - stream[i].bytes.size());
}

// Where a message's payload (or a raw run) starts, when it has one.
std::size_t body_start(const Message& m) {
  return has_payload(m.kind) ? header_size(m.kind) : 0;
}

// Indexes of the messages a predicate accepts.
template <class Accept>
std::vector<std::size_t> indexes(const Stream& stream, Accept accept) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < stream.size(); ++i) {
    if (accept(stream[i])) out.push_back(i);
  }
  return out;
}

}  // namespace

bool StreamMutator::has_body(const Message& m) const {
  // Under Keep raw runs stay as they are: new bytes there could start a header.
  if (m.kind == MessageKind::Raw) return !keep();
  return has_payload(m.kind) && m.bytes.size() >= header_size(m.kind);
}

void StreamMutator::settle_length(Message& m) {
  if (keep() || !random_.one_in(4)) fix_length(m);
}

bool StreamMutator::mutate_field_of(Stream& stream, const StreamFacts& facts) {
  // Under Keep, magics and header lengths stay: they decide the split.
  const auto fields = [this](const Message& m) {
    auto all = fields_of(m);
    if (keep()) {
      std::erase_if(all, [](const Field& f) {
        return f.role == FieldRole::Magic || f.role == FieldRole::Length;
      });
    }
    return all;
  };
  const auto candidates = indexes(stream, [&](const Message& m) { return !fields(m).empty(); });
  if (candidates.empty()) return false;
  Message& m = stream[random_.pick(candidates)];
  mutate_field(m, random_.pick(fields(m)), random_, facts);
  return true;
}

bool StreamMutator::resize_payload(Stream& stream, std::size_t max_size) {
  const auto candidates = indexes(stream, [this](const Message& m) { return has_body(m); });
  if (candidates.empty()) return false;
  const std::size_t i = random_.pick(candidates);
  Message& m = stream[i];
  const std::size_t start = body_start(m);
  const std::size_t body = m.bytes.size() - start;
  const std::size_t room = minus(room_for(stream, i, max_size), m.bytes.size());
  if (body > 0 && (room == 0 || random_.one_in(2))) {
    // Remove a run of the body.
    const std::size_t count = random_.between(1, std::min<std::size_t>(body, 64));
    const auto from =
        m.bytes.begin() + static_cast<std::ptrdiff_t>(start + random_.below(body - count + 1));
    m.bytes.erase(from, from + static_cast<std::ptrdiff_t>(count));
  } else {
    if (room == 0) return false;
    // Insert a copy of a run of the body (a repeated descriptor, more
    // data), or fresh bytes when there is no body.
    const std::size_t count = random_.between(1, std::min<std::size_t>(room, 64));
    const std::size_t from = random_.below(body);
    std::vector<std::uint8_t> run(count);
    for (std::size_t k = 0; k < count; ++k) {
      run[k] = body > 0 ? m.bytes[start + (from + k) % body] : random_.byte();
    }
    const auto at = m.bytes.begin() + static_cast<std::ptrdiff_t>(start + random_.below(body + 1));
    m.bytes.insert(at, run.begin(), run.end());
  }
  settle_length(m);
  return true;
}

bool StreamMutator::mutate_message_bytes(Stream& stream, std::size_t max_size) {
  const auto candidates = indexes(stream, [this](const Message& m) {
    return keep() ? has_body(m) && m.bytes.size() > body_start(m) : !m.bytes.empty();
  });
  if (candidates.empty()) return false;
  const std::size_t i = random_.pick(candidates);
  Message& m = stream[i];
  const std::size_t room = room_for(stream, i, max_size);
  const bool whole =
      !keep() && (!has_body(m) || m.bytes.size() == body_start(m) || random_.one_in(2));
  if (whole) {
    mutate_bytes(bytes_, m.bytes, room);
    return true;
  }
  // The payload alone, its length then settled.
  const std::size_t start = body_start(m);
  std::vector<std::uint8_t> body(m.bytes.begin() + static_cast<std::ptrdiff_t>(start),
                                 m.bytes.end());
  mutate_bytes(bytes_, body, minus(room, start));
  m.bytes.resize(start);
  m.bytes.insert(m.bytes.end(), body.begin(), body.end());
  settle_length(m);
  return true;
}

void StreamMutator::insert(Stream& stream, const StreamFacts& facts) {
  const MessageKind kind = !facts.kinds.empty() && !random_.one_in(4)
                               ? random_.pick(facts.kinds)
                               : random_.pick(ALL_MESSAGE_KINDS);
  const auto at = stream.begin() + static_cast<std::ptrdiff_t>(random_.below(stream.size() + 1));
  stream.insert(at, synthesize_message(kind, random_, facts));
}

bool StreamMutator::truncate(Stream& stream) {
  if (stream.empty()) return false;
  const std::size_t i = random_.below(stream.size());
  stream.resize(i + 1);
  Message& last = stream.back();
  last.bytes.resize(random_.below(last.bytes.size()));
  if (last.bytes.empty()) stream.pop_back();
  return true;
}

void StreamMutator::mutate_stream_bytes(Stream& stream, std::size_t max_size) {
  std::vector<std::uint8_t> bytes = join_stream(stream);
  if (bytes.empty()) bytes.push_back(random_.byte());
  mutate_bytes(bytes_, bytes, max_size);
  stream = split_stream(bytes);
}

bool StreamMutator::apply(StreamMutation mutation, Stream& stream, std::size_t max_size,
                          const StreamFacts& facts) {
  switch (mutation) {
    case M::Field:
      return mutate_field_of(stream, facts);
    case M::ResizePayload:
      return resize_payload(stream, max_size);
    case M::MessageBytes:
      return mutate_message_bytes(stream, max_size);
    case M::Insert:
      insert(stream, facts);
      return true;
    case M::Duplicate: {
      if (stream.empty()) return false;
      const std::size_t i = random_.below(stream.size());
      const Message copy = stream[i];
      const std::size_t to = random_.one_in(4) ? random_.below(stream.size() + 1) : i + 1;
      stream.insert(stream.begin() + static_cast<std::ptrdiff_t>(to), copy);
      return true;
    }
    case M::Delete:
      return delete_one(stream, random_);
    case M::SwapAdjacent:
      return swap_adjacent(stream, random_);
    case M::Truncate:
      return !keep() && truncate(stream);
    case M::StreamBytes:
      if (keep()) return false;
      mutate_stream_bytes(stream, max_size);
      return true;
  }
  return false;
}

std::vector<std::uint8_t> StreamMutator::mutate(wire::Bytes bytes, std::size_t max_size,
                                                const StreamFacts& known) {
  Stream stream = split_stream(bytes);
  StreamFacts facts = StreamFacts::of(stream);
  facts.merge(known);
  bool done = false;
  for (int tries = 0; tries < 8 && !done; ++tries) {
    done = apply(random_.weighted(WEIGHTS), stream, max_size, facts);
  }
  if (!done) insert(stream, facts);
  std::vector<std::uint8_t> out = join_stream(stream);
  if (out.size() > max_size) out.resize(max_size);
  return out;
}

Stream StreamMutator::cross_over(const Stream& a, const Stream& b) {
  if (a.empty() || b.empty()) return a.empty() ? b : a;
  Stream out;
  const auto take = [&out](const Stream& from, std::size_t begin, std::size_t end) {
    out.insert(out.end(), from.begin() + static_cast<std::ptrdiff_t>(begin),
               from.begin() + static_cast<std::ptrdiff_t>(end));
  };
  if (random_.one_in(2)) {
    // One point: a's head, b's tail.
    take(a, 0, random_.between(1, a.size()));
    take(b, random_.below(b.size()), b.size());
  } else {
    // A run of b's messages inside a.
    const std::size_t at = random_.between(0, a.size());
    const std::size_t begin = random_.below(b.size());
    const std::size_t end = random_.between(begin + 1, std::min(b.size(), begin + 4));
    take(a, 0, at);
    take(b, begin, end);
    take(a, at, a.size());
  }
  return out;
}

std::vector<std::uint8_t> StreamMutator::cross_over(wire::Bytes a, wire::Bytes b,
                                                    std::size_t max_size) {
  std::vector<std::uint8_t> out = join_stream(cross_over(split_stream(a), split_stream(b)));
  if (out.size() > max_size) out.resize(max_size);
  return out;
}

}  // namespace nbdref::fuzz::mutator
