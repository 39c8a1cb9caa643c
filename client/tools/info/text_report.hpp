// The reports as text for a person to read.
#pragma once

#include <ostream>

#include "extent_map.hpp"
#include "report.hpp"

namespace nbdref::info {

void print_text(std::ostream& out, const ServerReport& report);
void print_text(std::ostream& out, const ExtentMap& map);

}  // namespace nbdref::info
