// What the mutator's tests share: the recorded streams of the seed corpora,
// and a byte mutator that is a pure function of its input (so results stay
// deterministic) standing in for libFuzzer's.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

namespace nbdref::fuzz::mutator::test {

using Buffer = std::vector<std::uint8_t>;

inline std::filesystem::path source_dir() {
  return NBDREF_SOURCE_DIR;
}

inline Buffer read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Whether a corpus file is one libFuzzer kept in a merge, named by the
// SHA-1 of its bytes: any bytes at all, where a named seed is a whole
// conversation recorded or written on purpose.
inline bool found_by_fuzzing(const std::string& name) {
  return name.size() == 40 && std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// The named seeds of corpus/<target> (not the inputs fuzzing added), in name order.
inline std::vector<std::pair<std::string, Buffer>> corpus(const std::string& target) {
  std::vector<std::pair<std::string, Buffer>> out;
  for (const auto& entry : std::filesystem::directory_iterator(source_dir() / "corpus" / target)) {
    const std::string name = entry.path().filename().string();
    if (!found_by_fuzzing(name)) out.emplace_back(name, read_file(entry.path()));
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The server streams of corpus/handshake: each seed after its 4 configuration bytes.
inline std::vector<std::pair<std::string, Buffer>> handshake_streams() {
  auto seeds = corpus("handshake");
  for (auto& [name, bytes] : seeds) bytes.erase(bytes.begin(), bytes.begin() + 4);
  return seeds;
}

// Flips one byte, chosen from the contents, and appends one when there is room.
inline std::size_t flip_one_byte(std::uint8_t* data, std::size_t size, std::size_t max_size) {
  std::size_t hash = size;
  for (std::size_t i = 0; i < size; ++i) hash = hash * 31 + data[i];
  if (size > 0) data[hash % size] ^= 0xa5;
  if (size < max_size) data[size++] = static_cast<std::uint8_t>(hash);
  return size;
}

}  // namespace nbdref::fuzz::mutator::test
