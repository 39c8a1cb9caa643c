// A private directory for one server or test: sockets, logs, config files and
// disk images live here, so parallel tests never see each other's files.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace nbdref::test {

class TempDir {
 public:
  // Creates a fresh directory "<prefix>-XXXXXX" under $TMPDIR (or /tmp).
  // Throws std::runtime_error when it cannot.
  explicit TempDir(std::string_view prefix = "nbdref");
  // Removes the directory and everything in it; errors are ignored because a
  // destructor has no one to report them to.
  ~TempDir();
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // The path of `name` inside the directory (nothing is created).
  std::string file(std::string_view name) const;
  // Creates (or truncates) `name` as a sparse file of `size` bytes and returns
  // its path. Throws std::runtime_error on failure.
  std::string create_sparse_file(std::string_view name, std::uint64_t size) const;

 private:
  void remove();

  std::string path_;
};

}  // namespace nbdref::test
