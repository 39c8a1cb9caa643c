// What one benchmark run measured, and how it is printed: a few lines for a
// person, then one line of key=value pairs for scripts (compare.sh).
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include "bench_options.hpp"
#include "latency_summary.hpp"
#include "resource_meter.hpp"

namespace nbdref::bench {

enum class RunMode { Async, Sync, Copy };

struct RunFigures {
  std::string library;  // nbd_get_package_name: "libnbd" or "nbdref"
  std::string version;
  RunMode mode = RunMode::Async;
  BenchOptions options;
  std::uint64_t requests = 0;  // copy: reads and writes
  std::uint64_t bytes = 0;     // copy: bytes copied
  ResourceUse use;
  std::optional<LatencySummary> latency;  // synchronous runs
};

// The human lines (unless options.quiet), then
//   result library=... mode=... ... mib_per_s=... kops_per_s=...
//          cpu_s_per_gib=... cpu_us_per_op=... [lat_*_us=...]
void print_figures(std::FILE* out, const RunFigures& figures);

}  // namespace nbdref::bench
