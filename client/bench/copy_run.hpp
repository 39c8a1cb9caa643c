// Copy mode: the whole source export to the destination over one or more
// connection pairs (each pair copies a slice of the export on its own
// thread), measured from the first request to the last completion.
#pragma once

#include "bench_options.hpp"
#include "run_figures.hpp"

namespace nbdref::bench {

// Throws std::runtime_error when connecting fails or the exports do not
// suit a copy; a failure during the copy ends the program
// (connection_threads.hpp).
RunFigures run_copy(const BenchOptions& options);

}  // namespace nbdref::bench
