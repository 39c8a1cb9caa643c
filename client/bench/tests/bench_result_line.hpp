// The machine-readable line the benchmark programs print last,
//   result library=nbdref mode=aio ... mib_per_s=123.4 ...
// read back into its fields for the smoke tests.
#pragma once

#include <map>
#include <optional>
#include <string>

namespace nbdref::bench::test {

class ResultLine {
 public:
  // The last line of `output` that starts with "result "; empty if none.
  static std::optional<ResultLine> find(const std::string& output);

  bool has(const std::string& key) const { return fields_.count(key) != 0; }
  // The value of `key`; "" when absent.
  std::string text(const std::string& key) const;
  // The value of `key` as a number; NaN when absent or not a number.
  double number(const std::string& key) const;

 private:
  std::map<std::string, std::string> fields_;
};

}  // namespace nbdref::bench::test
