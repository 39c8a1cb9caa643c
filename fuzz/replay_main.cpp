// A plain driver for a fuzz target, without libFuzzer: runs the target's
// LLVMFuzzerTestOneInput once on every file named on the command line and
// on every file under the directories named. ctest replays each corpus
// with it in every build, g++ ones included, so every seed and every past
// finding is checked again on every run.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

namespace fs = std::filesystem;

// The inputs an argument names: the file, or the regular files under the directory.
bool collect(const fs::path& arg, std::vector<fs::path>& files) {
  std::error_code ec;
  if (fs::is_directory(arg, ec)) {
    for (const auto& entry : fs::recursive_directory_iterator(arg)) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
    return true;
  }
  if (fs::is_regular_file(arg, ec)) {
    files.push_back(arg);
    return true;
  }
  return false;
}

// Runs the target on the file's bytes, held in an allocation of exactly
// their size so AddressSanitizer sees any read past the end.
bool replay(const fs::path& file) {
  std::error_code ec;
  const auto size = static_cast<std::size_t>(fs::file_size(file, ec));
  if (ec) return false;
  std::ifstream in(file, std::ios::binary);
  const auto exact = std::make_unique<std::uint8_t[]>(size);
  if (!in.read(reinterpret_cast<char*>(exact.get()), static_cast<std::streamsize>(size))) {
    return false;
  }
  LLVMFuzzerTestOneInput(exact.get(), size);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    if (!collect(argv[i], files)) {
      std::fprintf(stderr, "replay: %s is neither a file nor a directory\n", argv[i]);
      return 2;
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "usage: %s FILE_OR_DIRECTORY...: no inputs found\n", argv[0]);
    return 2;
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    // Named first, so the input behind a crash is the last name printed.
    std::fprintf(stderr, "replaying %s\n", file.c_str());
    if (!replay(file)) {
      std::fprintf(stderr, "replay: cannot read %s\n", file.c_str());
      return 2;
    }
  }
  std::printf("replayed %zu inputs\n", files.size());
  return 0;
}
