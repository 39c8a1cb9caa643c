#include "citation_scan.hpp"

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace nbdref::coverage {
namespace {

bool has_extension(const std::filesystem::path& p, const std::vector<std::string>& extensions) {
  const std::string name = p.filename().string();
  for (const std::string& e : extensions) {
    if (name.size() > e.size() && name.ends_with(e)) return true;
  }
  return false;
}

}  // namespace

Citations scan_citations(const std::vector<std::string>& roots,
                         const std::vector<std::string>& extensions) {
  // Clause ids: a role and an area of capitals (C-HS-003), an
  // extended-headers role (X-C-016) or the URI prefix (U-003), then three
  // digits.
  static const std::regex ID(R"(\b(?:[SCB]-[A-Z]+|X-[SCB]|U)-[0-9]{3}\b)");
  Citations found;
  for (const std::string& root : roots) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
      if (!entry.is_regular_file() || !has_extension(entry.path(), extensions)) continue;
      std::ifstream in(entry.path());
      std::stringstream text;
      text << in.rdbuf();
      const std::string content = text.str();
      for (std::sregex_iterator it(content.begin(), content.end(), ID), end; it != end; ++it) {
        found[it->str()].insert(entry.path().string());
      }
    }
  }
  return found;
}

}  // namespace nbdref::coverage
