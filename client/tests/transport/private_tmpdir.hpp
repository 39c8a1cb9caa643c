// A test's own temporary folder, made the value of TMPDIR for as long as
// the object lives, so that whatever the code under test creates there can
// be found, and checked to be gone, without looking at anyone else's files.
#pragma once

#include <stdlib.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>

namespace nbdref::transport::test {

class PrivateTmpdir {
 public:
  PrivateTmpdir() {
    char name[] = "/tmp/nbdref-tmpdir-XXXXXX";
    EXPECT_NE(mkdtemp(name), nullptr) << strerror(errno);
    path_ = name;
    if (const char* old = getenv("TMPDIR")) previous_ = old;
    setenv("TMPDIR", path_.c_str(), 1);
  }
  PrivateTmpdir(const PrivateTmpdir&) = delete;
  PrivateTmpdir& operator=(const PrivateTmpdir&) = delete;
  ~PrivateTmpdir() {
    if (previous_) {
      setenv("TMPDIR", previous_->c_str(), 1);
    } else {
      unsetenv("TMPDIR");
    }
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  const std::string& path() const { return path_; }
  bool empty() const { return std::filesystem::is_empty(path_); }

 private:
  std::string path_;
  std::optional<std::string> previous_;
};

}  // namespace nbdref::transport::test
