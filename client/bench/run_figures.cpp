// Figures derived from a run's counts and resource use, in text and as
// key=value pairs.
#include "run_figures.hpp"

namespace nbdref::bench {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;
constexpr double kGiB = kMiB * 1024.0;

const char* mode_name(RunMode mode) {
  switch (mode) {
    case RunMode::Async:
      return "aio";
    case RunMode::Sync:
      return "sync";
    case RunMode::Copy:
      return "copy";
  }
  return "?";
}

// Rates over an empty run (--bytes 0) are 0, not a division by zero.
double ratio(double numerator, double denominator) {
  return denominator > 0 ? numerator / denominator : 0;
}

std::string size_text(std::uint64_t bytes) {
  if (bytes >= (1U << 20) && bytes % (1U << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  if (bytes >= 1024 && bytes % 1024 == 0) return std::to_string(bytes >> 10) + " KiB";
  return std::to_string(bytes) + " bytes";
}

void print_human(std::FILE* out, const RunFigures& f, double mib_per_s, double kops_per_s,
                 double cpu_s_per_gib, double cpu_us_per_op) {
  const BenchOptions& o = f.options;
  std::fprintf(out, "%s %s: ", f.library.c_str(), f.version.c_str());
  if (f.mode == RunMode::Copy) {
    std::fprintf(out, "copy %s to %s", o.copy_source.c_str(), o.copy_destination.c_str());
  } else {
    std::fprintf(out, "%s %s %s", f.mode == RunMode::Sync ? "synchronous" : "asynchronous",
                 o.pattern == AccessPattern::Sequential ? "sequential" : "random",
                 o.op == Operation::Read ? "reads" : "writes");
  }
  std::fprintf(out, ", %s blocks", size_text(o.block_size).c_str());
  if (f.mode != RunMode::Sync) std::fprintf(out, ", %u in flight", o.in_flight);
  std::fprintf(out, ", %u connection%s\n", o.connections, o.connections == 1 ? "" : "s");
  std::fprintf(out, "  %llu requests, %.1f MiB in %.3f s: %.1f MiB/s, %.1f thousand requests/s\n",
               static_cast<unsigned long long>(f.requests), static_cast<double>(f.bytes) / kMiB,
               f.use.wall_seconds, mib_per_s, kops_per_s);
  std::fprintf(out,
               "  client CPU %.3f s (user %.3f, system %.3f): %.3f s per GiB, %.2f us per "
               "request; %ld voluntary and %ld involuntary context switches\n",
               f.use.cpu_seconds(), f.use.user_seconds, f.use.system_seconds, cpu_s_per_gib,
               cpu_us_per_op, f.use.voluntary_switches, f.use.involuntary_switches);
  if (f.latency) {
    std::fprintf(out,
                 "  latency: mean %.1f us, median %.1f us, 99th percentile %.1f us, max %.1f us\n",
                 f.latency->mean_us, f.latency->median_us, f.latency->p99_us, f.latency->max_us);
  }
}

}  // namespace

void print_figures(std::FILE* out, const RunFigures& f) {
  const BenchOptions& o = f.options;
  const double bytes = static_cast<double>(f.bytes);
  const double requests = static_cast<double>(f.requests);
  const double mib_per_s = ratio(bytes / kMiB, f.use.wall_seconds);
  const double kops_per_s = ratio(requests / 1e3, f.use.wall_seconds);
  const double cpu_s_per_gib = ratio(f.use.cpu_seconds(), bytes / kGiB);
  const double cpu_us_per_op = ratio(f.use.cpu_seconds() * 1e6, requests);
  if (!o.quiet) print_human(out, f, mib_per_s, kops_per_s, cpu_s_per_gib, cpu_us_per_op);

  std::fprintf(out, "result library=%s version=%s mode=%s", f.library.c_str(), f.version.c_str(),
               mode_name(f.mode));
  if (f.mode != RunMode::Copy) {
    std::fprintf(out, " pattern=%s op=%s", o.pattern == AccessPattern::Sequential ? "seq" : "rand",
                 o.op == Operation::Read ? "read" : "write");
  }
  std::fprintf(out, " block_size=%llu in_flight=%u connections=%u",
               static_cast<unsigned long long>(o.block_size),
               f.mode == RunMode::Sync ? 1U : o.in_flight, o.connections);
  std::fprintf(out,
               " seconds=%.6f requests=%llu bytes=%llu mib_per_s=%.3f kops_per_s=%.4f"
               " cpu_s=%.6f cpu_user_s=%.6f cpu_sys_s=%.6f cpu_s_per_gib=%.5f cpu_us_per_op=%.4f"
               " vol_ctx_switches=%ld invol_ctx_switches=%ld",
               f.use.wall_seconds, static_cast<unsigned long long>(f.requests),
               static_cast<unsigned long long>(f.bytes), mib_per_s, kops_per_s, f.use.cpu_seconds(),
               f.use.user_seconds, f.use.system_seconds, cpu_s_per_gib, cpu_us_per_op,
               f.use.voluntary_switches, f.use.involuntary_switches);
  if (f.latency) {
    std::fprintf(out, " lat_mean_us=%.3f lat_p50_us=%.3f lat_p99_us=%.3f lat_max_us=%.3f",
                 f.latency->mean_us, f.latency->median_us, f.latency->p99_us, f.latency->max_us);
  }
  std::fprintf(out, "\n");
}

}  // namespace nbdref::bench
