// Mean and percentiles of request latencies.
#include "latency_summary.hpp"

#include <algorithm>

namespace nbdref::bench {
namespace {

double percentile_us(const std::vector<std::uint64_t>& sorted, double fraction) {
  const auto rank = static_cast<std::size_t>(fraction * static_cast<double>(sorted.size() - 1));
  return static_cast<double>(sorted[rank]) / 1e3;
}

}  // namespace

LatencySummary summarize_latencies(std::vector<std::uint64_t>& nanoseconds) {
  std::sort(nanoseconds.begin(), nanoseconds.end());
  double total = 0;
  for (const std::uint64_t ns : nanoseconds) total += static_cast<double>(ns);
  LatencySummary summary;
  summary.mean_us = total / static_cast<double>(nanoseconds.size()) / 1e3;
  summary.median_us = percentile_us(nanoseconds, 0.5);
  summary.p99_us = percentile_us(nanoseconds, 0.99);
  summary.max_us = static_cast<double>(nanoseconds.back()) / 1e3;
  return summary;
}

}  // namespace nbdref::bench
