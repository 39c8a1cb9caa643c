#include "mutator/prefix_layout.hpp"

#include <algorithm>
#include <utility>

#include "mutator/stream_mutator.hpp"

namespace nbdref::fuzz::mutator {
namespace {

struct Split {
  std::vector<std::uint8_t> config;
  wire::Bytes stream;
};

Split split(wire::Bytes input, std::size_t config_bytes) {
  const std::size_t n = std::min(config_bytes, input.size());
  Split s{{input.begin(), input.begin() + static_cast<std::ptrdiff_t>(n)}, input.subspan(n)};
  s.config.resize(config_bytes, 0);
  return s;
}

std::vector<std::uint8_t> join(std::vector<std::uint8_t> config,
                               const std::vector<std::uint8_t>& stream, std::size_t max_size) {
  config.insert(config.end(), stream.begin(), stream.end());
  if (config.size() > max_size) config.resize(max_size);
  return config;
}

std::size_t stream_room(std::size_t config_bytes, std::size_t max_size) {
  return max_size > config_bytes ? max_size - config_bytes : 0;
}

}  // namespace

std::vector<std::uint8_t> mutate_prefixed(wire::Bytes input, std::size_t config_bytes,
                                          std::size_t max_size, Random& random,
                                          const ByteMutator& bytes) {
  if (random.one_in(4) && !input.empty()) {
    // libFuzzer's own mutations (dictionary, comparison operands) over everything.
    std::vector<std::uint8_t> all(input.begin(), input.end());
    mutate_bytes(bytes, all, max_size);
    if (all.size() > max_size) all.resize(max_size);
    return all;
  }
  Split s = split(input, config_bytes);
  if (config_bytes > 0 && random.one_in(8)) {
    std::uint8_t& b = s.config[random.below(config_bytes)];
    b = random.one_in(2) ? random.byte() : static_cast<std::uint8_t>(b ^ (1u << random.below(8)));
    return join(std::move(s.config), {s.stream.begin(), s.stream.end()}, max_size);
  }
  StreamMutator mutator(random, bytes);
  return join(std::move(s.config), mutator.mutate(s.stream, stream_room(config_bytes, max_size)),
              max_size);
}

std::vector<std::uint8_t> cross_over_prefixed(wire::Bytes a, wire::Bytes b,
                                              std::size_t config_bytes, std::size_t max_size,
                                              Random& random) {
  Split sa = split(a, config_bytes);
  Split sb = split(b, config_bytes);
  StreamMutator mutator(random, {});
  auto config = random.one_in(2) ? std::move(sa.config) : std::move(sb.config);
  return join(std::move(config),
              mutator.cross_over(sa.stream, sb.stream, stream_room(config_bytes, max_size)),
              max_size);
}

}  // namespace nbdref::fuzz::mutator
