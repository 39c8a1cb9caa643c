#include "mutator/transmission_mutator.hpp"

#include <algorithm>
#include <type_traits>

#include "mutator/message_templates.hpp"
#include "mutator/nbd_stream.hpp"
#include "mutator/sequence_edits.hpp"
#include "mutator/stream_mutator.hpp"
#include "wire/constants.hpp"

namespace nbdref::fuzz::mutator {
namespace {

using namespace nbdref::wire;
using namespace nbdref::fuzz::transmission;
using T = TransmissionMutation;

// How often each mutation is drawn.
constexpr Weighted<TransmissionMutation> WEIGHTS[] = {
    {T::Receive, 8},         {T::InsertOperation, 3},
    {T::DeleteOperation, 1}, {T::DuplicateOperation, 1},
    {T::SwapOperations, 1},  {T::SplitReceive, 1},
    {T::MergeReceives, 1},   {T::SubmitField, 2},
    {T::Config, 1},          {T::Bytes, 2},
};

constexpr std::uint8_t COMMAND_FLAGS[] = {0,
                                          NBD_CMD_FLAG_FUA,
                                          NBD_CMD_FLAG_NO_HOLE,
                                          NBD_CMD_FLAG_DF,
                                          NBD_CMD_FLAG_REQ_ONE,
                                          NBD_CMD_FLAG_FAST_ZERO,
                                          NBD_CMD_FLAG_PAYLOAD_LEN,
                                          0xff};
constexpr std::uint32_t OFFSETS[] = {0,        1,          511,       512, 4096, (1u << 20) - 512,
                                     1u << 20, 0x7fffffff, 0xffffffff};
constexpr std::uint16_t LENGTHS[] = {0, 1, 511, 512, 4096, 0x8000, 0xffff};

std::uint8_t config_byte(const TransmissionInput& input, std::size_t i) {
  return i < input.config.size() ? input.config[i] : 0;
}

std::vector<std::size_t> indexes_of(const TransmissionInput& input, OperationKind kind) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < input.operations.size(); ++i) {
    if (input.operations[i].kind() == kind) out.push_back(i);
  }
  return out;
}

std::size_t encoded_size(const TransmissionInput& input) {
  std::size_t n = CONFIG_BYTES;
  for (const Operation& op : input.operations) {
    n += 1 + op.body.size() + (op.kind() == OperationKind::Receive ? 2 : 0);
  }
  return n;
}

// A value from `table`, or now and then any value.
template <class Table>
auto value_of(Random& random, const Table& table) {
  using V = std::remove_cvref_t<decltype(table[0])>;
  return random.one_in(4) ? static_cast<V>(random.next()) : random.pick(table);
}

}  // namespace

StreamFacts TransmissionMutator::facts_of(const TransmissionInput& input) {
  StreamFacts facts;
  // The reply forms byte 0 negotiates, and its meta contexts: the
  // target's handshake numbers them 1, 2, 3 (transmission_setup.hpp).
  const std::uint8_t features = config_byte(input, 0);
  if (features & EXTENDED_HEADERS) {
    facts.kinds.push_back(MessageKind::ExtendedChunk);
  } else {
    facts.kinds.push_back(MessageKind::SimpleReply);
    if (features & STRUCTURED_REPLIES) facts.kinds.push_back(MessageKind::StructuredChunk);
  }
  for (std::uint32_t id = 1; id <= context_count(features); ++id) facts.context_ids.push_back(id);
  // The engine's cookies count from 1, one per accepted command.
  const std::size_t submits = indexes_of(input, OperationKind::Submit).size();
  for (std::uint64_t c = 1; c <= submits + 1; ++c) facts.cookies.push_back(c);
  for (const Operation& op : input.operations) {
    if (op.kind() == OperationKind::Receive) facts.merge(StreamFacts::of(split_stream(op.body)));
  }
  return facts;
}

Operation TransmissionMutator::new_operation(const StreamFacts& facts) {
  switch (random_.below(9)) {
    case 0:
    case 1:
    case 2: {
      const bool from_end = random_.one_in(4);
      SubmitFields fields;
      fields.type_index = static_cast<std::uint8_t>(random_.below(7));  // TYPES[b % 7]
      fields.flags = value_of(random_, COMMAND_FLAGS);
      fields.offset = value_of(random_, OFFSETS);
      fields.length = value_of(random_, LENGTHS);
      return submit_operation(fields, from_end);
    }
    case 3:
    case 4:
      return {OP_SEND, {}};
    case 5:
    case 6:
    case 7: {
      Stream replies;
      for (std::size_t n = random_.between(1, 3); n > 0; --n) {
        replies.push_back(synthesize_message(random_.pick(facts.kinds), random_, facts));
      }
      return {OP_RECEIVE, join_stream(replies)};
    }
    default:
      return {
          static_cast<std::uint8_t>(random_.one_in(2) ? OP_DISCONNECT : OP_DISCONNECT | OP_ABANDON),
          {}};
  }
}

bool TransmissionMutator::mutate_receive(TransmissionInput& input, std::size_t max_size) {
  const auto receives = indexes_of(input, OperationKind::Receive);
  if (receives.empty()) return false;
  Operation& op = input.operations[random_.pick(receives)];
  const std::size_t others = encoded_size(input) - op.body.size();
  const std::size_t room = std::min(MAX_RECEIVE, max_size > others ? max_size - others : 0);
  StreamMutator mutator(random_, bytes_);
  op.body = mutator.mutate(op.body, room, facts_of(input));
  return true;
}

bool TransmissionMutator::split_receive(TransmissionInput& input) {
  std::vector<std::size_t> candidates;
  for (const std::size_t i : indexes_of(input, OperationKind::Receive)) {
    if (input.operations[i].body.size() >= 2) candidates.push_back(i);
  }
  if (candidates.empty()) return false;
  const std::size_t i = random_.pick(candidates);
  auto& body = input.operations[i].body;
  const auto at = body.begin() + static_cast<std::ptrdiff_t>(random_.between(1, body.size() - 1));
  Operation second{input.operations[i].tag, {at, body.end()}};
  body.erase(at, body.end());
  input.operations.insert(input.operations.begin() + static_cast<std::ptrdiff_t>(i + 1),
                          std::move(second));
  return true;
}

bool TransmissionMutator::merge_receives(TransmissionInput& input) {
  std::vector<std::size_t> candidates;
  auto& ops = input.operations;
  for (std::size_t i = 0; i + 1 < ops.size(); ++i) {
    if (ops[i].kind() == OperationKind::Receive && ops[i + 1].kind() == OperationKind::Receive &&
        ops[i].body.size() + ops[i + 1].body.size() <= MAX_RECEIVE) {
      candidates.push_back(i);
    }
  }
  if (candidates.empty()) return false;
  const std::size_t i = random_.pick(candidates);
  ops[i].body.insert(ops[i].body.end(), ops[i + 1].body.begin(), ops[i + 1].body.end());
  ops.erase(ops.begin() + static_cast<std::ptrdiff_t>(i + 1));
  return true;
}

bool TransmissionMutator::mutate_submit(TransmissionInput& input) {
  std::vector<std::size_t> candidates;
  for (const std::size_t i : indexes_of(input, OperationKind::Submit)) {
    if (input.operations[i].body.size() == SUBMIT_BODY_SIZE) candidates.push_back(i);
  }
  if (candidates.empty()) return false;
  Operation& op = input.operations[random_.pick(candidates)];
  SubmitFields fields = submit_fields(op.body);
  switch (random_.below(5)) {
    case 0:
      op.tag ^= OP_FROM_END;
      break;
    case 1:
      fields.type_index = static_cast<std::uint8_t>(fields.type_index + random_.between(1, 6));
      break;
    case 2:
      fields.flags = fields.flags == 0
                         ? value_of(random_, COMMAND_FLAGS)
                         : static_cast<std::uint8_t>(fields.flags ^ (1u << random_.below(8)));
      break;
    case 3:
      fields.offset = value_of(random_, OFFSETS);
      break;
    default:
      fields.length = value_of(random_, LENGTHS);
      break;
  }
  op.body = submit_body(fields);
  return true;
}

bool TransmissionMutator::apply(TransmissionMutation mutation, TransmissionInput& input,
                                std::size_t max_size) {
  auto& ops = input.operations;
  switch (mutation) {
    case T::Receive:
      return mutate_receive(input, max_size);
    case T::InsertOperation: {
      Operation op = new_operation(facts_of(input));
      ops.insert(ops.begin() + static_cast<std::ptrdiff_t>(random_.below(ops.size() + 1)),
                 std::move(op));
      return true;
    }
    case T::DeleteOperation:
      return delete_one(ops, random_);
    case T::DuplicateOperation: {
      if (ops.empty()) return false;
      const std::size_t i = random_.below(ops.size());
      const Operation copy = ops[i];
      ops.insert(ops.begin() + static_cast<std::ptrdiff_t>(i + 1), copy);
      return true;
    }
    case T::SwapOperations:
      return swap_adjacent(ops, random_);
    case T::SplitReceive:
      return split_receive(input);
    case T::MergeReceives:
      return merge_receives(input);
    case T::SubmitField:
      return mutate_submit(input);
    case T::Config: {
      input.config.resize(CONFIG_BYTES, 0);
      std::uint8_t& b = input.config[random_.below(CONFIG_BYTES)];
      b = static_cast<std::uint8_t>(b ^ (1u << random_.below(8)));
      return true;
    }
    case T::Bytes:
      return false;
  }
  return false;
}

std::vector<std::uint8_t> TransmissionMutator::mutate(wire::Bytes bytes, std::size_t max_size) {
  TransmissionInput input = decode_transmission_input(bytes);
  for (int tries = 0; tries < 8; ++tries) {
    const TransmissionMutation mutation = random_.weighted(WEIGHTS);
    if (mutation == T::Bytes && !bytes.empty()) {
      // The byte mutator over everything, then each operation made whole
      // again: a receive's length is the harness's framing, not the
      // protocol's, and nothing is learnt from breaking it.
      std::vector<std::uint8_t> all(bytes.begin(), bytes.end());
      mutate_bytes(bytes_, all, max_size);
      return encode_transmission_input(decode_transmission_input(all), max_size);
    }
    if (apply(mutation, input, max_size)) break;
  }
  return encode_transmission_input(input, max_size);
}

std::vector<std::uint8_t> TransmissionMutator::cross_over(wire::Bytes a, wire::Bytes b,
                                                          std::size_t max_size) {
  TransmissionInput out = decode_transmission_input(a);
  const TransmissionInput other = decode_transmission_input(b);
  const auto receives = indexes_of(out, OperationKind::Receive);
  const auto other_receives = indexes_of(other, OperationKind::Receive);
  if (!receives.empty() && !other_receives.empty() && random_.one_in(2)) {
    // The replies of one receive of each, spliced as messages.
    auto& body = out.operations[random_.pick(receives)].body;
    const auto& other_body = other.operations[random_.pick(other_receives)].body;
    StreamMutator mutator(random_, bytes_);
    body = mutator.cross_over(body, other_body, MAX_RECEIVE);
  } else {
    // a's operations up to a point, then b's from one.
    auto& ops = out.operations;
    ops.resize(random_.between(0, ops.size()));
    const std::size_t from = random_.between(0, other.operations.size());
    ops.insert(ops.end(), other.operations.begin() + static_cast<std::ptrdiff_t>(from),
               other.operations.end());
  }
  return encode_transmission_input(out, max_size);
}

}  // namespace nbdref::fuzz::mutator
