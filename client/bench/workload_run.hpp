// A read or write workload on one export: connects the connections, gives
// each its share (a slice of the export for sequential access, the whole
// export with its own seed for random access), runs the shares on their
// own threads and measures the whole, connecting excluded.
#pragma once

#include "bench_options.hpp"
#include "run_figures.hpp"

namespace nbdref::bench {

// Throws std::runtime_error when connecting fails or the export does not
// suit the workload; a failure during the run ends the program
// (connection_threads.hpp).
RunFigures run_workload(const BenchOptions& options);

}  // namespace nbdref::bench
