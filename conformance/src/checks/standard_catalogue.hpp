// The catalogue nbdref-conform runs: every area's checks, in report order.
#pragma once

#include "runner/catalogue.hpp"

namespace nbdref::conform {

const Catalogue& standard_catalogue();

}  // namespace nbdref::conform
