#include "transmission_plan.hpp"

#include <charconv>
#include <limits>
#include <utility>

#include "wire/constants.hpp"

namespace nbdref::fuzz::recorder {
namespace {

using namespace wire;

// In transmission::TYPES order.
constexpr std::pair<std::string_view, std::uint8_t> COMMANDS[] = {
    {"read", 0}, {"write", 1}, {"flush", 2}, {"trim", 3}, {"cache", 4}, {"zero", 5}, {"status", 6},
};
constexpr std::pair<std::string_view, std::uint8_t> FLAGS[] = {
    {"fua", NBD_CMD_FLAG_FUA},
    {"no-hole", NBD_CMD_FLAG_NO_HOLE},
    {"df", NBD_CMD_FLAG_DF},
    {"req-one", NBD_CMD_FLAG_REQ_ONE},
    {"fast-zero", NBD_CMD_FLAG_FAST_ZERO},
};

// A decimal or 0x number with an optional K or M suffix, up to `max`.
bool parse_number(std::string_view text, std::uint64_t max, std::uint64_t& out) {
  std::uint64_t scale = 1;
  if (text.ends_with("K")) {
    scale = 1024;
    text.remove_suffix(1);
  } else if (text.ends_with("M")) {
    scale = 1024 * 1024;
    text.remove_suffix(1);
  }
  int base = 10;
  if (text.starts_with("0x")) {
    base = 16;
    text.remove_prefix(2);
  }
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n, base);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return false;
  out = n * scale;
  return n <= max / scale && out <= max;
}

tl::expected<PlanStep, std::string> parse_step(std::string_view word) {
  PlanStep step;
  std::string_view flags;
  if (const auto plus = word.find('+'); plus != std::string_view::npos) {
    flags = word.substr(plus + 1);
    word = word.substr(0, plus);
  }
  const auto bad = [&](const std::string& why) {
    return tl::unexpected("'" + std::string(word) + "': " + why);
  };
  if (word == "wait" || word == "disc") {
    step.kind = word == "wait" ? PlanStep::Kind::Wait : PlanStep::Kind::Disconnect;
    if (word == "disc" && flags == "abandon") {
      step.abandon = true;
    } else if (!flags.empty()) {
      return bad("takes no flags but +abandon (disc)");
    }
    return step;
  }
  step.kind = PlanStep::Kind::Submit;
  const auto colon = word.find(':');
  const std::string_view name = word.substr(0, colon);
  bool known = false;
  for (const auto& [command, index] : COMMANDS) {
    if (command == name) {
      step.submit.type_index = index;
      known = true;
    }
  }
  if (!known) return bad("not a command, wait or disc");
  if (colon != std::string_view::npos) {
    const std::string_view range = word.substr(colon + 1);
    const auto second = range.find(':');
    std::uint64_t offset = 0, length = 0;
    if (second == std::string_view::npos ||
        !parse_number(range.substr(0, second), std::numeric_limits<std::uint32_t>::max(), offset) ||
        !parse_number(range.substr(second + 1), std::numeric_limits<std::uint16_t>::max(),
                      length)) {
      return bad("wants OFFSET:LENGTH, a 32-bit offset and a 16-bit length");
    }
    step.submit.offset = static_cast<std::uint32_t>(offset);
    step.submit.length = static_cast<std::uint16_t>(length);
  } else if (name != "flush") {
    return bad("wants :OFFSET:LENGTH");
  }
  while (!flags.empty()) {
    const auto next = flags.find('+');
    const std::string_view flag = flags.substr(0, next);
    flags = next == std::string_view::npos ? std::string_view{} : flags.substr(next + 1);
    bool found = false;
    for (const auto& [flag_name, bit] : FLAGS) {
      if (flag_name == flag) {
        step.submit.flags |= bit;
        found = true;
      }
    }
    if (!found) return bad("unknown flag +" + std::string(flag));
  }
  return step;
}

}  // namespace

tl::expected<std::vector<PlanStep>, std::string> parse_plan(std::string_view text) {
  std::vector<PlanStep> steps;
  while (!text.empty()) {
    const auto start = text.find_first_not_of(" \t\n,");
    if (start == std::string_view::npos) break;
    text.remove_prefix(start);
    const auto end = text.find_first_of(" \t\n,");
    const auto step = parse_step(text.substr(0, end));
    if (!step) return tl::unexpected(step.error());
    steps.push_back(*step);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end);
  }
  return steps;
}

}  // namespace nbdref::fuzz::recorder
