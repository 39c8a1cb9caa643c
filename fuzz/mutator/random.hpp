// The mutator's source of choices: a splitmix64 generator, so a mutation is
// a function of its input and libFuzzer's seed on every platform and
// standard library (std:: distributions are not specified bit for bit).
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>

namespace nbdref::fuzz::mutator {

// A choice and how often it is drawn against the others of its table.
template <class Choice>
struct Weighted {
  Choice choice;
  std::size_t weight;
};

class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}

  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n); 0 when n is 0.
  std::size_t below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(next() % n); }
  // Uniform in [low, high].
  std::size_t between(std::size_t low, std::size_t high) { return low + below(high - low + 1); }
  bool one_in(std::size_t n) { return below(n) == 0; }
  std::uint8_t byte() { return static_cast<std::uint8_t>(next()); }

  // One element of a nonempty array, vector or span.
  template <class Items>
  const auto& pick(const Items& items) {
    return items[below(std::size(items))];
  }
  // A choice of a nonempty table of Weighted, drawn by weight.
  template <class Table>
  auto weighted(const Table& table) {
    std::size_t total = 0;
    for (const auto& w : table) total += w.weight;
    std::size_t at = below(total);
    for (const auto& w : table) {
      if (at < w.weight) return w.choice;
      at -= w.weight;
    }
    return std::begin(table)->choice;
  }

 private:
  std::uint64_t state_;
};

}  // namespace nbdref::fuzz::mutator
