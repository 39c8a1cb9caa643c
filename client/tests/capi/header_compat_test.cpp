// compat/libnbd.h against the libnbd 1.14 header Debian installs
// (/usr/include/libnbd.h): every function, callback structure and constant
// of libnbd must be present with the same signature and value, so libnbd
// programs build against nbdref unchanged. The comparison is textual after
// normalising whitespace and dropping parameter names and attributes.
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace {

std::string read_file(const char* path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string without_comments(const std::string& text) {
  return std::regex_replace(std::regex_replace(text, std::regex(R"(/\*[\s\S]*?\*/)"), " "),
                            std::regex(R"(//[^\n]*)"), " ");
}

// One space between words, none around punctuation.
std::string normalise(std::string s) {
  s = std::regex_replace(s, std::regex(R"(\s+)"), " ");
  s = std::regex_replace(s, std::regex(R"( ?([*(),;{}\[\]]) ?)"), "$1");
  return std::regex_replace(s, std::regex(R"(^ | $)"), "");
}

// "const char *name" -> "const char*"; "void" stays.
std::string parameter_type(std::string p) {
  p = normalise(p);
  static const std::regex trailing_name(R"(^(.*[\s*])[A-Za-z_][A-Za-z0-9_]*$)");
  std::smatch m;
  if (std::regex_match(p, m, trailing_name) && p != "void") p = normalise(m[1]);
  return p;
}

struct Header {
  std::map<std::string, std::string> functions;  // name -> "ret(param types)"
  std::map<std::string, std::string> constants;  // LIBNBD_X -> value
  std::map<std::string, std::string> callbacks;  // typedef name -> body
};

Header parse(const char* path) {
  Header h;
  const std::string text = without_comments(read_file(path));
  static const std::regex function(
      R"(extern\s+([^;()]*?)\s*\b(nbd_\w+)\s*\(([^;]*?)\)\s*(?:LIBNBD_ATTRIBUTE_\w+\([^)]*\)\s*)*;)");
  for (std::sregex_iterator it(text.begin(), text.end(), function), end; it != end; ++it) {
    std::string params;
    std::stringstream list((*it)[3]);
    for (std::string p; std::getline(list, p, ',');) {
      params += (params.empty() ? "" : ",") + parameter_type(p);
    }
    h.functions[(*it)[2]] = normalise((*it)[1]) + "(" + params + ")";
  }
  static const std::regex constant(R"(#define\s+(LIBNBD_\w+)\s+([^\n]+))");
  for (std::sregex_iterator it(text.begin(), text.end(), constant), end; it != end; ++it) {
    const std::string name = (*it)[1];
    if (name.rfind("LIBNBD_HAVE_", 0) == 0 || name.rfind("LIBNBD_ATTRIBUTE_", 0) == 0 ||
        name == "LIBNBD_GCC_VERSION") {
      continue;
    }
    h.constants[name] = normalise((*it)[2]);
  }
  static const std::regex callback(R"(typedef\s+struct\s*\{([^}]*)\}\s*(nbd_\w+)\s*;)");
  for (std::sregex_iterator it(text.begin(), text.end(), callback), end; it != end; ++it) {
    h.callbacks[(*it)[2]] = normalise((*it)[1]);
  }
  return h;
}

class HeaderCompat : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    libnbd_ = new Header(parse(LIBNBD_HEADER));
    ours_ = new Header(parse(COMPAT_HEADER));
  }
  static void TearDownTestSuite() {
    delete libnbd_;
    delete ours_;
  }
  static Header* libnbd_;
  static Header* ours_;
};
Header* HeaderCompat::libnbd_ = nullptr;
Header* HeaderCompat::ours_ = nullptr;

TEST_F(HeaderCompat, ParserSeesAllOfLibnbd) {
  // libnbd 1.14: 126 functions and 6 callback structures.
  EXPECT_EQ(libnbd_->functions.size(), 126u);
  EXPECT_EQ(libnbd_->callbacks.size(), 6u);
  EXPECT_EQ(libnbd_->functions.at("nbd_pread"), "int(struct nbd_handle*,void*,size_t,uint64_t,uint32_t)");
}

TEST_F(HeaderCompat, EveryFunctionWithTheSameSignature) {
  for (const auto& [name, signature] : libnbd_->functions) {
    auto it = ours_->functions.find(name);
    if (it == ours_->functions.end()) {
      ADD_FAILURE() << name << " is missing from compat/libnbd.h";
      continue;
    }
    EXPECT_EQ(it->second, signature) << name;
  }
}

TEST_F(HeaderCompat, EveryConstantWithTheSameValue) {
  for (const auto& [name, value] : libnbd_->constants) {
    if (name == "LIBNBD_H") continue;
    auto it = ours_->constants.find(name);
    if (it == ours_->constants.end()) {
      ADD_FAILURE() << name << " is missing";
      continue;
    }
    EXPECT_EQ(it->second, value) << name;
  }
}

TEST_F(HeaderCompat, EveryCallbackStructureWithTheSameLayout) {
  for (const auto& [name, body] : libnbd_->callbacks) {
    auto it = ours_->callbacks.find(name);
    if (it == ours_->callbacks.end()) {
      ADD_FAILURE() << name << " is missing";
      continue;
    }
    EXPECT_EQ(it->second, body) << name;
  }
}

}  // namespace
