// The fuzz dictionaries (fuzz/dictionaries/<target>.dict) parse as libFuzzer
// and AFL read them: every line empty, a comment, or name="value" with only
// \\, \" and \xHH escapes; and they hold the numbers the targets meet.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <optional>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "test_support.hpp"
#include "wire/bytes.hpp"
#include "wire/constants.hpp"

namespace nbdref::fuzz::mutator {
namespace {

using test::Buffer;

std::optional<unsigned> hex_digit(char c) {
  if (c >= '0' && c <= '9') return static_cast<unsigned>(c - '0');
  if (c >= 'a' && c <= 'f') return static_cast<unsigned>(c - 'a' + 10);
  if (c >= 'A' && c <= 'F') return static_cast<unsigned>(c - 'A' + 10);
  return std::nullopt;
}

// The bytes of an entry line, or nothing when the line is malformed.
std::optional<Buffer> parse_entry(const std::string& line) {
  const std::size_t open = line.find('"');
  if (open == std::string::npos || line.size() < open + 2 || line.back() != '"') return {};
  const std::string name = line.substr(0, open);
  if (!name.empty()) {
    if (name.back() != '=' || name.size() < 2) return {};
    const bool word = std::all_of(name.begin(), name.end() - 1, [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    });
    if (!word) return {};
  }
  Buffer out;
  const std::string body = line.substr(open + 1, line.size() - open - 2);
  for (std::size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (c < 0x20 || c > 0x7e || c == '"') return {};
    if (c != '\\') {
      out.push_back(static_cast<std::uint8_t>(c));
      continue;
    }
    if (i + 1 >= body.size()) return {};
    const char e = body[++i];
    if (e == '\\' || e == '"') {
      out.push_back(static_cast<std::uint8_t>(e));
    } else if (e == 'x' && i + 2 < body.size() && hex_digit(body[i + 1]) &&
               hex_digit(body[i + 2])) {
      out.push_back(
          static_cast<std::uint8_t>(*hex_digit(body[i + 1]) * 16 + *hex_digit(body[i + 2])));
      i += 2;
    } else {
      return {};
    }
  }
  if (out.empty()) return {};
  return out;
}

// Every entry of fuzz/dictionaries/<target>.dict; fails the test on a bad line.
std::set<Buffer> entries_of(const std::string& target) {
  const auto path = test::source_dir() / "fuzz" / "dictionaries" / (target + ".dict");
  EXPECT_TRUE(std::filesystem::is_regular_file(path)) << path;
  const Buffer bytes = test::read_file(path);
  std::istringstream in(std::string(bytes.begin(), bytes.end()));
  std::set<Buffer> out;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.empty() || line[0] == '#') continue;
    const auto entry = parse_entry(line);
    EXPECT_TRUE(entry.has_value()) << path << ":" << number << ": " << line;
    if (entry) out.insert(*entry);
  }
  return out;
}

Buffer be(std::uint64_t v, std::size_t width) {
  Buffer out(width);
  for (std::size_t i = width; i-- > 0; v >>= 8) out[i] = static_cast<std::uint8_t>(v);
  return out;
}

TEST(Dictionaries, EveryFileParses) {
  std::set<std::string> files;
  for (const auto& entry :
       std::filesystem::directory_iterator(test::source_dir() / "fuzz" / "dictionaries")) {
    files.insert(entry.path().stem().string());
    EXPECT_EQ(entry.path().extension(), ".dict") << entry.path();
  }
  const std::set<std::string> targets{"client_socket", "handshake", "mock_script", "mock_server",
                                      "transmission",  "uri",       "wire"};
  for (const auto& t : targets) EXPECT_TRUE(files.count(t)) << t;
  for (const auto& f : files) EXPECT_GE(entries_of(f).size(), 10u) << f;
}

TEST(Dictionaries, HoldTheMagicsTheirTargetsMeet) {
  using namespace nbdref::wire;
  const auto handshake = entries_of("handshake");
  for (const std::uint64_t magic : {NBDMAGIC, IHAVEOPT, OLDSTYLE_MAGIC, OPTION_REPLY_MAGIC}) {
    EXPECT_TRUE(handshake.count(be(magic, 8))) << std::hex << magic;
  }
  const auto transmission = entries_of("transmission");
  for (const std::uint32_t magic :
       {NBD_SIMPLE_REPLY_MAGIC, NBD_STRUCTURED_REPLY_MAGIC, NBD_EXTENDED_REPLY_MAGIC}) {
    EXPECT_TRUE(transmission.count(be(magic, 4))) << std::hex << magic;
  }
  const auto client = entries_of("mock_server");
  EXPECT_TRUE(client.count(be(IHAVEOPT, 8)));
  EXPECT_TRUE(client.count(be(NBD_REQUEST_MAGIC, 4)));
  EXPECT_TRUE(client.count(be(NBD_EXTENDED_REQUEST_MAGIC, 4)));
  const auto uri = entries_of("uri");
  EXPECT_TRUE(uri.count(Buffer{'%', '2', '5'}));
}

}  // namespace
}  // namespace nbdref::fuzz::mutator
