// nbdref-bench and libnbd-bench: one program, written against the libnbd C
// API only, built once against nbdref (compat/libnbd.h) and once against
// libnbd, so both libraries run exactly the same code. See bench_usage()
// for the command line and compare.sh for running the two side by side.
#include <cstdio>
#include <exception>
#include <span>
#include <string_view>

#include "bench_options.hpp"
#include "copy_run.hpp"
#include "run_figures.hpp"
#include "usage_error.hpp"
#include "workload_run.hpp"

int main(int argc, char** argv) {
  using namespace nbdref::bench;
  BenchOptions options;
  try {
    const std::span<const char* const> args(argv + 1, static_cast<std::size_t>(argc - 1));
    for (const char* arg : args) {
      if (std::string_view(arg) == "--help") {
        std::fputs(bench_usage(argv[0]).c_str(), stdout);
        return 0;
      }
    }
    options = parse_bench_options(args);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "%s: %s\n%s", argv[0], e.what(), bench_usage(argv[0]).c_str());
    return 2;
  }
  try {
    const RunFigures figures = options.copy_mode() ? run_copy(options) : run_workload(options);
    print_figures(stdout, figures);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", argv[0], e.what());
    return 1;
  }
  return 0;
}
