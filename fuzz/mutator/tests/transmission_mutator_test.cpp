// The transmission target's input: decoding and encoding the operations
// gives the seeds back, and every mutation and crossover gives operations
// that decode whole (each receive's length its bytes, each submit its 8
// bytes), within the size asked for, the same for the same seed; the byte
// fallback included.
#include "mutator/transmission_mutator.hpp"

#include <set>

#include <gtest/gtest.h>

#include "mutator/nbd_stream.hpp"
#include "test_support.hpp"

namespace nbdref::fuzz::mutator {
namespace {

using namespace nbdref::fuzz::transmission;
using T = TransmissionMutation;
using test::Buffer;

constexpr TransmissionMutation DECODED_MUTATIONS[] = {
    T::Receive,        T::InsertOperation, T::DeleteOperation, T::DuplicateOperation,
    T::SwapOperations, T::SplitReceive,    T::MergeReceives,   T::SubmitField,
    T::Config};

// Operations that decode whole: encoding them again gives the same bytes.
bool decodes_whole(const Buffer& bytes) {
  const TransmissionInput input = decode_transmission_input(bytes);
  for (const Operation& op : input.operations) {
    if (op.kind() == OperationKind::Submit && op.body.size() != SUBMIT_BODY_SIZE) return false;
  }
  return encode_transmission_input(input, bytes.size()) == bytes;
}

TEST(TransmissionInput, DecodeThenEncodeGivesTheSeedsBack) {
  for (const auto& [name, input] : test::corpus("transmission")) {
    const TransmissionInput decoded = decode_transmission_input(input);
    EXPECT_FALSE(decoded.operations.empty()) << name;
    EXPECT_EQ(encode_transmission_input(decoded, input.size()), input) << name;
  }
}

TEST(TransmissionInput, SeedRepliesSplitIntoChunks) {
  std::set<MessageKind> kinds;
  for (const auto& [name, input] : test::corpus("transmission")) {
    for (const Operation& op : decode_transmission_input(input).operations) {
      if (op.kind() != OperationKind::Receive) continue;
      for (const Message& m : split_stream(op.body)) kinds.insert(m.kind);
    }
  }
  EXPECT_TRUE(kinds.count(MessageKind::SimpleReply));
  EXPECT_TRUE(kinds.count(MessageKind::StructuredChunk));
  EXPECT_TRUE(kinds.count(MessageKind::ExtendedChunk));
}

TEST(TransmissionInput, EncodingCutsToMaxSize) {
  for (const auto& [name, input] : test::corpus("transmission")) {
    const TransmissionInput decoded = decode_transmission_input(input);
    for (std::size_t max_size = 0; max_size < input.size(); max_size += 7) {
      const Buffer out = encode_transmission_input(decoded, max_size);
      ASSERT_LE(out.size(), max_size);
      if (max_size >= CONFIG_BYTES) {
        ASSERT_TRUE(decodes_whole(out)) << name;
      }
    }
  }
}

TEST(TransmissionMutator, EveryMutationGivesWholeOperations) {
  for (const auto& [name, input] : test::corpus("transmission")) {
    for (const TransmissionMutation mutation : DECODED_MUTATIONS) {
      for (std::uint64_t seed = 0; seed < 40; ++seed) {
        Random random(seed);
        TransmissionMutator mutator(random, test::flip_one_byte);
        TransmissionInput decoded = decode_transmission_input(input);
        mutator.apply(mutation, decoded, 4096);
        const Buffer out = encode_transmission_input(decoded, 4096);
        ASSERT_LE(out.size(), 4096u);
        ASSERT_TRUE(decodes_whole(out)) << name << " " << static_cast<int>(mutation);
      }
    }
  }
}

TEST(TransmissionMutator, MutateAndCrossOverGiveWholeOperationsDeterministically) {
  const auto seeds = test::corpus("transmission");
  std::set<Buffer> different;
  for (std::uint64_t seed = 0; seed < 400; ++seed) {
    const Buffer& a = seeds[seed % seeds.size()].second;
    const Buffer& b = seeds[(seed / seeds.size()) % seeds.size()].second;
    for (const std::size_t max_size : {std::size_t{64}, std::size_t{4096}}) {
      Random random(seed);
      TransmissionMutator mutator(random, test::flip_one_byte);
      const Buffer out = mutator.mutate(a, max_size);
      const Buffer child = mutator.cross_over(a, b, max_size);
      ASSERT_LE(out.size(), max_size);
      ASSERT_LE(child.size(), max_size);
      ASSERT_TRUE(decodes_whole(out)) << seed;
      ASSERT_TRUE(decodes_whole(child)) << seed;
      Random again(seed);
      TransmissionMutator same(again, test::flip_one_byte);
      ASSERT_EQ(same.mutate(a, max_size), out);
      ASSERT_EQ(same.cross_over(a, b, max_size), child);
      different.insert(out);
    }
  }
  EXPECT_GT(different.size(), 400u);
}

TEST(TransmissionMutator, RepliesFollowTheConfiguration) {
  TransmissionInput input;
  input.config = {0x02 | (2 << 2), 0, 0, 0};  // extended headers, two contexts
  input.operations = {{0, {0, 0, 0, 0, 0, 0, 2, 0}}, {0, {6, 0, 0, 0, 0, 0, 2, 0}}};
  const StreamFacts facts = TransmissionMutator::facts_of(input);
  EXPECT_EQ(facts.kinds, std::vector<MessageKind>{MessageKind::ExtendedChunk});
  EXPECT_EQ(facts.context_ids, (std::vector<std::uint32_t>{1, 2}));
  EXPECT_EQ(facts.cookies, (std::vector<std::uint64_t>{1, 2, 3}));
  // Receives inserted carry extended chunks.
  std::size_t chunks = 0;
  for (std::uint64_t seed = 0; seed < 100; ++seed) {
    Random random(seed);
    TransmissionMutator mutator(random, test::flip_one_byte);
    TransmissionInput changed = input;
    mutator.apply(T::InsertOperation, changed, 4096);
    for (const Operation& op : changed.operations) {
      if (op.kind() != OperationKind::Receive) continue;
      for (const Message& m : split_stream(op.body)) {
        ASSERT_EQ(m.kind, MessageKind::ExtendedChunk);
        ++chunks;
      }
    }
  }
  EXPECT_GT(chunks, 0u);
}

}  // namespace
}  // namespace nbdref::fuzz::mutator
