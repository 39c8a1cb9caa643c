#include "runner/tsv_table.hpp"

#include <cerrno>
#include <fstream>
#include <sstream>

namespace nbdref::conform {

Result<std::vector<TsvRow>> parse_tsv_rows(std::string_view text, const std::string& source,
                                           std::size_t fields) {
  std::vector<TsvRow> rows;
  std::size_t number = 0;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (number == 1 || line.empty()) continue;  // the header row
    TsvRow row{number, {}};
    for (std::size_t start = 0;;) {
      const std::size_t tab = line.find('\t', start);
      row.fields.emplace_back(line.substr(start, tab - start));
      if (tab == std::string_view::npos) break;
      start = tab + 1;
    }
    if (row.fields.size() != fields) {
      return failure(EINVAL, source + ":" + std::to_string(number) + ": expected " +
                                 std::to_string(fields) + " tab-separated fields, found " +
                                 std::to_string(row.fields.size()));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

Result<std::string> read_table_file(const std::string& path, const std::string& what) {
  std::ifstream in(path);
  if (!in) {
    const int err = errno;
    return failure(err, with_strerror("cannot read " + what + " " + path, err));
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace nbdref::conform
