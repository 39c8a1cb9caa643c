#include "runner/expectations.hpp"

#include <cerrno>
#include <fstream>
#include <optional>
#include <sstream>

namespace nbdref::conform {
namespace {

std::optional<Status> parse_status(std::string_view word) {
  for (Status s : {Status::Pass, Status::Fail, Status::NotApplicable, Status::Error}) {
    if (word == status_name(s)) return s;
  }
  return std::nullopt;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

// The next whitespace-separated word of `line` from `pos`, advancing it.
std::string_view next_word(std::string_view line, std::size_t& pos) {
  while (pos < line.size() && is_space(line[pos])) ++pos;
  const std::size_t start = pos;
  while (pos < line.size() && !is_space(line[pos])) ++pos;
  return line.substr(start, pos - start);
}

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<Expectations> Expectations::parse(std::string_view text, std::string source) {
  Expectations out;
  out.source_ = std::move(source);
  std::size_t number = 0;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++number;
    const std::string where = out.source_ + ":" + std::to_string(number) + ": ";
    if (trimmed(line).empty() || trimmed(line).front() == '#') continue;

    std::size_t pos = 0;
    Expectation e;
    e.line = number;
    e.check_id = std::string(next_word(line, pos));
    const std::string_view outcome = next_word(line, pos);
    e.reason = std::string(trimmed(line.substr(pos)));
    const auto status = parse_status(outcome);
    if (!status) {
      return failure(EINVAL, where + "outcome '" + std::string(outcome) +
                                 "' is not one of pass, fail, n/a, error");
    }
    e.status = *status;
    if (e.reason.empty()) {
      return failure(EINVAL, where + "check '" + e.check_id +
                                 "' has no reason: say why the server behaves so");
    }
    if (const Expectation* earlier = out.find(e.check_id)) {
      return failure(EINVAL, where + "check '" + e.check_id + "' is already listed on line " +
                                 std::to_string(earlier->line));
    }
    out.entries_.push_back(std::move(e));
  }
  return out;
}

Result<Expectations> Expectations::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    const int err = errno;
    return failure(err, with_strerror("cannot read expectation file " + path, err));
  }
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str(), path);
}

const Expectation* Expectations::find(std::string_view check_id) const {
  for (const Expectation& e : entries_) {
    if (e.check_id == check_id) return &e;
  }
  return nullptr;
}

std::vector<std::string> Expectations::unknown_checks(const Catalogue& catalogue) const {
  std::vector<std::string> out;
  for (const Expectation& e : entries_) {
    if (!catalogue.find(e.check_id)) {
      out.push_back(source_ + ":" + std::to_string(e.line) + ": no check '" + e.check_id +
                    "' in the catalogue");
    }
  }
  return out;
}

bool is_difference(Status status, const Expectation* expectation) {
  if (expectation) return status != expectation->status;
  return status != Status::Pass && status != Status::NotApplicable;
}

}  // namespace nbdref::conform
