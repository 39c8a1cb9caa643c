// Splitting the result line into key=value fields.
#include "bench_result_line.hpp"

#include <cmath>
#include <cstdlib>
#include <sstream>

namespace nbdref::bench::test {

std::optional<ResultLine> ResultLine::find(const std::string& output) {
  std::optional<ResultLine> found;
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.starts_with("result ")) continue;
    ResultLine result;
    std::istringstream words(line.substr(7));
    std::string word;
    while (words >> word) {
      const auto eq = word.find('=');
      if (eq != std::string::npos) result.fields_[word.substr(0, eq)] = word.substr(eq + 1);
    }
    found = std::move(result);
  }
  return found;
}

std::string ResultLine::text(const std::string& key) const {
  const auto it = fields_.find(key);
  return it == fields_.end() ? std::string() : it->second;
}

double ResultLine::number(const std::string& key) const {
  const std::string value = text(key);
  char* end = nullptr;
  const double n = std::strtod(value.c_str(), &end);
  if (value.empty() || *end != '\0') return std::nan("");
  return n;
}

}  // namespace nbdref::bench::test
