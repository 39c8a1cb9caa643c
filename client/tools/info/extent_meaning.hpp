// What an extent's flags mean, for the metadata contexts whose meaning the
// NBD specification defines.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nbdref::info {

// For base:allocation: "data", "hole", "zero" or "hole,zero". Nothing for a
// context whose flags have no meaning known to the tool.
std::optional<std::string> extent_meaning(std::string_view context, std::uint64_t flags);

}  // namespace nbdref::info
