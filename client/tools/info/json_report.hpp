// The reports as one JSON document each, for programs.
#pragma once

#include <ostream>

#include "extent_map.hpp"
#include "report.hpp"

namespace nbdref::info {

// {"protocol", "structured-replies", "extended-headers", "exports": [{
//   "export-name", "canonical-name", "description" (or null), "size",
//   "size-human", "capabilities": {"read-only": bool, ...},
//   "block-sizes": {"minimum", "preferred", "maximum"} (or null),
//   "metadata-contexts": [...] (or null, with "metadata-contexts-error")}]}
// An export the server would not describe has only "export-name" and "error".
void print_json(std::ostream& out, const ServerReport& report);

// {"export-name", "metadata-context", "size", "extents": [{"offset",
//   "length", "flags", "meaning" (for contexts with known meanings)}]}
void print_json(std::ostream& out, const ExtentMap& map);

}  // namespace nbdref::info
