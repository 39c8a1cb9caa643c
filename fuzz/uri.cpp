// Fuzz target "uri": the NBD URI parser and formatter (client/src/uri) on
// arbitrary text.
// Invariants: a refusal is EINVAL with a message; whatever parses formats
// (parsing never accepts what the formatter cannot write), the formatted
// URI parses to the same model (the parameters it ignored aside, which are
// never written back), and formatting that again gives the same text.
// Input: the URI text.
#include <cerrno>
#include <cstdint>
#include <string_view>

#include "invariant.hpp"
#include "uri/nbd_uri.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nbdref::uri;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = parse_nbd_uri(text);
  if (!parsed) {
    FUZZ_REQUIRE(parsed.error().errnum == EINVAL && !parsed.error().message.empty());
    return 0;
  }
  const auto formatted = format_nbd_uri(*parsed);
  FUZZ_REQUIRE(formatted.has_value());
  const auto again = parse_nbd_uri(*formatted);
  FUZZ_REQUIRE(again.has_value());
  FUZZ_REQUIRE(again->ignored_parameters.empty());
  parsed->ignored_parameters.clear();
  FUZZ_REQUIRE(*again == *parsed);
  const auto reformatted = format_nbd_uri(*again);
  FUZZ_REQUIRE(reformatted && *reformatted == *formatted);
  return 0;
}
