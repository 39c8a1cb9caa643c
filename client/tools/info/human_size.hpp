// A byte count in binary units for people: "1 MiB", "1.5 GiB", "512 B".
#pragma once

#include <cstdint>
#include <string>

namespace nbdref::info {

// Exact sizes get a whole number; others one decimal, truncated, so the
// text never claims more than there is.
std::string human_size(std::uint64_t bytes);

}  // namespace nbdref::info
