// The latency of synchronous requests, from the time of every call.
#pragma once

#include <cstdint>
#include <vector>

namespace nbdref::bench {

struct LatencySummary {
  double mean_us = 0;
  double median_us = 0;
  double p99_us = 0;
  double max_us = 0;
};

// Sorts `nanoseconds` (one entry per request; not empty).
LatencySummary summarize_latencies(std::vector<std::uint64_t>& nanoseconds);

}  // namespace nbdref::bench
