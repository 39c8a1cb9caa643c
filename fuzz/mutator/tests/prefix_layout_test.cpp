// Inputs of configuration bytes then a stream: the configuration survives
// stream mutations, results stay within the size asked for and are the
// same for the same seed, and crossover keeps one parent's configuration.
#include "mutator/prefix_layout.hpp"

#include <algorithm>
#include <set>

#include <gtest/gtest.h>

#include "mutator/nbd_stream.hpp"
#include "test_support.hpp"

namespace nbdref::fuzz::mutator {
namespace {

using test::Buffer;

Buffer mutate(const Buffer& input, std::size_t config_bytes, std::size_t max_size,
              std::uint64_t seed) {
  Random random(seed);
  return mutate_prefixed(input, config_bytes, max_size, random, test::flip_one_byte);
}

TEST(PrefixLayout, WithinMaxSizeAndDeterministic) {
  for (const auto& [name, input] : test::corpus("handshake")) {
    for (const std::size_t max_size :
         {std::size_t{0}, std::size_t{3}, std::size_t{64}, std::size_t{4096}}) {
      for (std::uint64_t seed = 0; seed < 25; ++seed) {
        const Buffer out = mutate(input, 4, max_size, seed);
        ASSERT_LE(out.size(), max_size) << name;
        ASSERT_EQ(out, mutate(input, 4, max_size, seed)) << name;
      }
    }
  }
}

TEST(PrefixLayout, MostMutationsKeepTheConfigurationAndChangeTheStream) {
  const auto seeds = test::corpus("handshake");
  std::size_t config_kept = 0;
  std::size_t stream_changed = 0;
  std::size_t runs = 0;
  for (const auto& [name, input] : seeds) {
    if (input.size() > 4096) continue;
    for (std::uint64_t seed = 0; seed < 100; ++seed, ++runs) {
      const Buffer out = mutate(input, 4, 4096, seed);
      if (out.size() >= 4 && std::equal(input.begin(), input.begin() + 4, out.begin())) {
        ++config_kept;
        if (!std::equal(input.begin() + 4, input.end(), out.begin() + 4, out.end())) {
          ++stream_changed;
        }
      }
    }
  }
  EXPECT_GT(config_kept, runs * 3 / 4);
  EXPECT_GT(stream_changed, runs / 2);
}

TEST(PrefixLayout, ShortInputsArePaddedToTheConfiguration) {
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    const Buffer out = mutate({7}, 4, 4096, seed);
    ASSERT_LE(out.size(), 4096u);
  }
  // A stream mutation of a 1-byte input: the configuration is [7, 0, 0, 0].
  bool padded = false;
  for (std::uint64_t seed = 0; seed < 50 && !padded; ++seed) {
    const Buffer out = mutate({7}, 4, 4096, seed);
    padded = out.size() > 4 && out[0] == 7 && out[1] == 0 && out[2] == 0 && out[3] == 0;
  }
  EXPECT_TRUE(padded);
}

// Seeds whose streams are whole messages: their splices split back into
// the same messages (a cut-short header could take in bytes after it).
std::vector<Buffer> whole_message_seeds() {
  std::vector<Buffer> out;
  for (const auto& [name, input] : test::corpus("handshake")) {
    if (input.size() <= 4) continue;
    const Stream s = split_stream(Buffer(input.begin() + 4, input.end()));
    if (std::all_of(s.begin(), s.end(), [](const Message& m) {
          return m.kind != MessageKind::Raw && length_consistent(m);
        })) {
      out.push_back(input);
    }
  }
  return out;
}

TEST(PrefixLayout, CrossoverTakesOneConfigurationAndBothStreams) {
  const auto seeds = whole_message_seeds();
  ASSERT_GE(seeds.size(), 10u);
  for (std::uint64_t seed = 0; seed < 100; ++seed) {
    const Buffer& a = seeds[seed % seeds.size()];
    const Buffer& b = seeds[(seed + 5) % seeds.size()];
    Random random(seed);
    const Buffer child = cross_over_prefixed(a, b, 4, 1 << 20, random);
    ASSERT_GE(child.size(), 4u);
    const bool config_a = std::equal(a.begin(), a.begin() + 4, child.begin());
    const bool config_b = std::equal(b.begin(), b.begin() + 4, child.begin());
    EXPECT_TRUE(config_a || config_b);
    // The child's stream is made of the parents' messages.
    const Stream sa = split_stream(Buffer(a.begin() + 4, a.end()));
    const Stream sb = split_stream(Buffer(b.begin() + 4, b.end()));
    for (const Message& m : split_stream(Buffer(child.begin() + 4, child.end()))) {
      EXPECT_TRUE(std::find(sa.begin(), sa.end(), m) != sa.end() ||
                  std::find(sb.begin(), sb.end(), m) != sb.end());
    }
    EXPECT_LE(cross_over_prefixed(a, b, 4, 10, random).size(), 10u);
  }
}

}  // namespace
}  // namespace nbdref::fuzz::mutator
