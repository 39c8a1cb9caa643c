// Fuzz target "mock_script": the mock server's script parser and printer
// (mockserver/src/script) on arbitrary text.
// Invariants: a refusal says what is wrong and where, within the text;
// whatever parses prints to text that parses to an equal script
// (parse(print(parse(x))) == parse(x)), and printing that gives the same
// text again.
// Input: the script text.
#include <algorithm>
#include <cstdint>
#include <string_view>

#include "invariant.hpp"
#include "script/parser.hpp"
#include "script/printer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nbdref::mock::script;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto script = parse_script(text);
  if (!script) {
    const auto& e = script.error();
    const auto lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
    FUZZ_REQUIRE(!e.message.empty() && e.where.line >= 1 && e.where.line <= lines);
    FUZZ_REQUIRE(!e.describe("fuzz.nbd").empty());
    return 0;
  }
  const std::string printed = print_script(*script);
  const auto again = parse_script(printed);
  FUZZ_REQUIRE(again.has_value());
  FUZZ_REQUIRE(*again == *script);
  FUZZ_REQUIRE(print_script(*again) == printed);
  return 0;
}
