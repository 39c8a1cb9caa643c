// The stream mutator: results within the size asked for, the same for the
// same seed, each mutation doing what it is named for, lengths kept under
// LengthPolicy::Keep, and crossover made of both parents' messages.
#include "mutator/stream_mutator.hpp"

#include <algorithm>
#include <set>

#include <gtest/gtest.h>

#include "mutator/message_fields.hpp"
#include "test_support.hpp"

namespace nbdref::fuzz::mutator {
namespace {

using M = StreamMutation;
using test::Buffer;

constexpr StreamMutation ALL_MUTATIONS[] = {M::Field,        M::ResizePayload, M::MessageBytes,
                                            M::Insert,       M::Duplicate,     M::Delete,
                                            M::SwapAdjacent, M::Truncate,      M::StreamBytes};

Buffer mutate_once(const Buffer& stream, std::size_t max_size, std::uint64_t seed,
                   LengthPolicy lengths = LengthPolicy::Vary) {
  Random random(seed);
  StreamMutator mutator(random, test::flip_one_byte, lengths);
  return mutator.mutate(stream, max_size);
}

TEST(StreamMutator, NeverLongerThanMaxSize) {
  for (const auto& [name, stream] : test::handshake_streams()) {
    for (const std::size_t max_size : {std::size_t{0}, std::size_t{1}, std::size_t{19},
                                       stream.size(), stream.size() + 64, std::size_t{4096}}) {
      for (std::uint64_t seed = 0; seed < 40; ++seed) {
        ASSERT_LE(mutate_once(stream, max_size, seed).size(), max_size) << name << " " << seed;
      }
    }
  }
}

TEST(StreamMutator, MutationsThatGrowAMessageStayWithinMaxSize) {
  Random random(5);
  StreamMutator mutator(random, test::flip_one_byte);
  for (const auto& [name, stream] : test::handshake_streams()) {
    const Stream split = split_stream(stream);
    const StreamFacts facts = StreamFacts::of(split);
    const std::size_t max_size = std::max<std::size_t>(stream.size(), 600);
    for (const StreamMutation mutation : ALL_MUTATIONS) {
      for (int round = 0; round < 50; ++round) {
        Stream s = split;
        mutator.apply(mutation, s, max_size, facts);
        // A new or copied message may pass max_size; mutate() then cuts the stream.
        if (mutation == M::Insert || mutation == M::Duplicate) continue;
        ASSERT_LE(join_stream(s).size(), max_size) << name;
      }
    }
  }
}

TEST(StreamMutator, SameSeedSameResult) {
  std::set<Buffer> different;
  std::size_t runs = 0;
  for (const auto& [name, stream] : test::handshake_streams()) {
    for (std::uint64_t seed = 0; seed < 100; ++seed, ++runs) {
      const Buffer first = mutate_once(stream, 4096, seed);
      EXPECT_EQ(first, mutate_once(stream, 4096, seed)) << name << " " << seed;
      different.insert(first);
    }
  }
  // ... and different seeds often different results.
  EXPECT_GT(different.size(), runs / 2);
}

TEST(StreamMutator, KeepPolicyKeepsTheStreamSplittingIntoTheSameMessages) {
  std::size_t streams = 0;
  for (const auto& [name, stream] : test::handshake_streams()) {
    // From streams of whole messages: some seeds end inside a payload, and
    // a raw run may hold a header cut short that bytes after it complete.
    const Stream split = split_stream(stream);
    const auto whole = [](const Message& m) {
      return m.kind != MessageKind::Raw && length_consistent(m);
    };
    if (stream.size() > 4096 || !std::all_of(split.begin(), split.end(), whole)) continue;
    ++streams;
    for (std::uint64_t seed = 0; seed < 300; ++seed) {
      Random random(seed);
      StreamMutator mutator(random, test::flip_one_byte, LengthPolicy::Keep);
      Stream s = split_stream(stream);
      const StreamFacts facts = StreamFacts::of(s);
      for (int step = 0; step < 4; ++step) {
        mutator.apply(ALL_MUTATIONS[random.below(std::size(ALL_MUTATIONS))], s, 4096, facts);
      }
      const Stream again = split_stream(join_stream(s));
      // Adjacent raw runs join into one; every other message comes back.
      std::vector<Message> expected;
      std::vector<Message> found;
      std::copy_if(s.begin(), s.end(), std::back_inserter(expected),
                   [](const Message& m) { return m.kind != MessageKind::Raw; });
      std::copy_if(again.begin(), again.end(), std::back_inserter(found),
                   [](const Message& m) { return m.kind != MessageKind::Raw; });
      ASSERT_EQ(found, expected) << name << " seed " << seed;
      for (const Message& m : again) ASSERT_TRUE(length_consistent(m)) << name << " " << seed;
    }
  }
  EXPECT_GE(streams, 10u);
}

TEST(StreamMutator, FieldMutationChangesOneFieldOfOneMessage) {
  const Buffer stream = test::handshake_streams()[0].second;
  const Stream split = split_stream(stream);
  for (std::uint64_t seed = 0; seed < 100; ++seed) {
    Random random(seed);
    StreamMutator mutator(random, test::flip_one_byte);
    Stream s = split;
    ASSERT_TRUE(mutator.apply(M::Field, s, 4096, StreamFacts::of(s)));
    ASSERT_EQ(s.size(), split.size());
    std::size_t changed = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == split[i]) continue;
      ++changed;
      const auto fields = fields_of(split[i]);
      const bool one_field = std::any_of(fields.begin(), fields.end(), [&](const Field& f) {
        Message m = split[i];
        write_field(m, f, read_field(s[i], f));
        return m == s[i];
      });
      EXPECT_TRUE(one_field) << seed;
    }
    EXPECT_EQ(changed, 1u) << seed;
  }
}

TEST(StreamMutator, StructuralMutationsDoWhatTheyAreNamedFor) {
  const Stream split = split_stream(test::handshake_streams()[0].second);
  const StreamFacts facts = StreamFacts::of(split);
  Random random(9);
  StreamMutator mutator(random, test::flip_one_byte);
  Stream s = split;
  ASSERT_TRUE(mutator.apply(M::Insert, s, 4096, facts));
  EXPECT_EQ(s.size(), split.size() + 1);
  s = split;
  ASSERT_TRUE(mutator.apply(M::Delete, s, 4096, facts));
  EXPECT_EQ(s.size(), split.size() - 1);
  s = split;
  ASSERT_TRUE(mutator.apply(M::Duplicate, s, 4096, facts));
  EXPECT_EQ(s.size(), split.size() + 1);
  s = split;
  ASSERT_TRUE(mutator.apply(M::SwapAdjacent, s, 4096, facts));
  std::vector<Message> sorted_before(split.begin(), split.end());
  std::vector<Message> sorted_after(s.begin(), s.end());
  const auto by_bytes = [](const Message& a, const Message& b) { return a.bytes < b.bytes; };
  std::sort(sorted_before.begin(), sorted_before.end(), by_bytes);
  std::sort(sorted_after.begin(), sorted_after.end(), by_bytes);
  EXPECT_EQ(sorted_before, sorted_after);
  s = split;
  ASSERT_TRUE(mutator.apply(M::Truncate, s, 4096, facts));
  const Buffer whole = join_stream(split);
  const Buffer cut = join_stream(s);
  EXPECT_LT(cut.size(), whole.size());
  EXPECT_TRUE(std::equal(cut.begin(), cut.end(), whole.begin()));
  Stream empty;
  EXPECT_FALSE(mutator.apply(M::Delete, empty, 4096, facts));
  EXPECT_FALSE(mutator.apply(M::SwapAdjacent, empty, 4096, facts));
}

TEST(StreamMutator, ByteMutationsGoThroughTheCallback) {
  const Buffer stream = test::handshake_streams()[0].second;
  Random random(4);
  std::size_t calls = 0;
  StreamMutator mutator(random, [&calls](std::uint8_t* data, std::size_t size, std::size_t max) {
    ++calls;
    return test::flip_one_byte(data, size, max);
  });
  Stream s = split_stream(stream);
  ASSERT_TRUE(mutator.apply(M::StreamBytes, s, 4096, {}));
  EXPECT_EQ(calls, 1u);
  EXPECT_NE(join_stream(s), stream);
  ASSERT_TRUE(mutator.apply(M::MessageBytes, s, 4096, {}));
  EXPECT_EQ(calls, 2u);
}

TEST(StreamMutator, CrossoverIsMadeOfMessagesOfBothParents) {
  const auto seeds = test::handshake_streams();
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    const Stream a = split_stream(seeds[seed % seeds.size()].second);
    const Stream b = split_stream(seeds[(seed * 7 + 3) % seeds.size()].second);
    if (a == b || a.empty() || b.empty()) continue;  // (some seeds have no stream)
    Random random(seed);
    StreamMutator mutator(random, test::flip_one_byte);
    const Stream child = mutator.cross_over(a, b);
    bool from_a = false;
    bool from_b = false;
    for (const Message& m : child) {
      const bool in_a = std::find(a.begin(), a.end(), m) != a.end();
      const bool in_b = std::find(b.begin(), b.end(), m) != b.end();
      ASSERT_TRUE(in_a || in_b) << seed;
      from_a = from_a || in_a;
      from_b = from_b || in_b;
    }
    EXPECT_TRUE(from_a && from_b) << seed;
  }
}

TEST(StreamMutator, CrossoverBytesStayWithinMaxSize) {
  const auto seeds = test::handshake_streams();
  Random random(8);
  StreamMutator mutator(random, test::flip_one_byte);
  for (const auto& [name_a, a] : seeds) {
    for (const auto& [name_b, b] : seeds) {
      EXPECT_LE(mutator.cross_over(a, b, 100).size(), 100u);
    }
  }
}

}  // namespace
}  // namespace nbdref::fuzz::mutator
