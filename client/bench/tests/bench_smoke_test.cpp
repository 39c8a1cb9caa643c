// nbdref-bench and libnbd-bench -- one source built against each library --
// run briefly against nbdkit: every figure compare.sh reads is printed and
// consistent, data written with --verify reads back right (and --verify
// does catch wrong data), and --copy copies every byte of an export whose
// size is not a whole number of blocks.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "bench_result_line.hpp"
#include "support/nbdkit_server.hpp"
#include "support/program_run.hpp"

namespace nbdref::bench::test {
namespace {

using nbdref::test::describe;
using nbdref::test::NbdkitServer;
using nbdref::test::ProgramRun;
using nbdref::test::run_program;

struct Build {
  const char* program;
  const char* library;  // what the program reports as library=
};

const Build kBuilds[] = {{NBDREF_BENCH, "nbdref"}, {LIBNBD_BENCH, "libnbd"}};

// Test names show the library, not the bytes of the struct.
void PrintTo(const Build& build, std::ostream* out) {
  *out << build.library;
}

std::string uri_of(const NbdkitServer& server) {
  return "nbd+unix:///?socket=" + server.endpoint().unix_path;
}

NbdkitServer memory_server(std::uint64_t size) {
  return NbdkitServer({.plugin = "memory", .plugin_args = {"size=" + std::to_string(size)}});
}

class BenchSmoke : public ::testing::TestWithParam<Build> {
 protected:
  ProgramRun bench(std::vector<std::string> args) {
    args.insert(args.begin(), GetParam().program);
    return run_program(std::move(args), std::chrono::seconds(60));
  }
  // Runs the benchmark, expects success and returns its result line.
  ResultLine bench_ok(const std::vector<std::string>& args) {
    const ProgramRun run = bench(args);
    EXPECT_EQ(run.status, 0) << describe(run);
    const auto result = ResultLine::find(run.output);
    EXPECT_TRUE(result.has_value()) << describe(run);
    if (!result) return ResultLine();
    EXPECT_EQ(result->text("library"), GetParam().library) << describe(run);
    return *result;
  }
};

void expect_common_figures(const ResultLine& r, std::uint64_t block_size) {
  EXPECT_GT(r.number("requests"), 0);
  EXPECT_EQ(r.number("bytes"), r.number("requests") * static_cast<double>(block_size));
  EXPECT_GT(r.number("seconds"), 0);
  EXPECT_GT(r.number("mib_per_s"), 0);
  EXPECT_GT(r.number("kops_per_s"), 0);
  EXPECT_GE(r.number("cpu_s"), 0);
  EXPECT_NEAR(r.number("cpu_s"), r.number("cpu_user_s") + r.number("cpu_sys_s"), 1e-5);
  EXPECT_FALSE(std::isnan(r.number("cpu_s_per_gib")));
  EXPECT_FALSE(std::isnan(r.number("cpu_us_per_op")));
  EXPECT_FALSE(std::isnan(r.number("vol_ctx_switches")));
}

TEST_P(BenchSmoke, AsynchronousRandomReadsPrintEveryFigure) {
  const NbdkitServer server = memory_server(std::uint64_t{64} << 20);
  const ResultLine r = bench_ok({"--pattern", "rand", "--op", "read", "--block-size", "4k",
                                 "--in-flight", "16", "--seconds", "0.2", uri_of(server)});
  EXPECT_EQ(r.text("mode"), "aio");
  EXPECT_EQ(r.text("pattern"), "rand");
  EXPECT_EQ(r.text("op"), "read");
  EXPECT_EQ(r.text("in_flight"), "16");
  expect_common_figures(r, 4096);
  EXPECT_GE(r.number("seconds"), 0.2);
  EXPECT_FALSE(r.has("lat_p50_us"));
}

TEST_P(BenchSmoke, SynchronousReadsReportLatency) {
  const NbdkitServer server = memory_server(std::uint64_t{64} << 20);
  const ResultLine r =
      bench_ok({"--sync", "--block-size", "4k", "--seconds", "0.2", uri_of(server)});
  EXPECT_EQ(r.text("mode"), "sync");
  EXPECT_EQ(r.text("in_flight"), "1");
  expect_common_figures(r, 4096);
  EXPECT_GT(r.number("lat_p50_us"), 0);
  EXPECT_GE(r.number("lat_p99_us"), r.number("lat_p50_us"));
  EXPECT_GE(r.number("lat_max_us"), r.number("lat_p99_us"));
  EXPECT_GT(r.number("lat_mean_us"), 0);
}

TEST_P(BenchSmoke, WrittenDataReadsBackRight) {
  const std::uint64_t size = std::uint64_t{8} << 20;
  const NbdkitServer server = memory_server(size);
  const ResultLine w = bench_ok({"--pattern", "seq", "--op", "write", "--block-size", "64k",
                                 "--in-flight", "16", "--bytes", "8M", "--verify", uri_of(server)});
  expect_common_figures(w, 65536);
  EXPECT_EQ(w.number("bytes"), static_cast<double>(size));
  EXPECT_EQ(w.number("requests"), 128);

  const ResultLine multi =
      bench_ok({"--pattern", "rand", "--block-size", "4k", "--in-flight", "8", "--connections", "2",
                "--seconds", "0.2", "--verify", uri_of(server)});
  EXPECT_EQ(multi.text("connections"), "2");
  expect_common_figures(multi, 4096);

  const ResultLine sync = bench_ok({"--sync", "--pattern", "rand", "--block-size", "4k",
                                    "--seconds", "0.1", "--verify", uri_of(server)});
  expect_common_figures(sync, 4096);
}

TEST_P(BenchSmoke, VerifyCatchesWrongData) {
  // A fresh memory export reads as zeros; the pattern's first word is the
  // offset 0, so the first difference is the last byte of the second word.
  const NbdkitServer server = memory_server(std::uint64_t{1} << 20);
  const ProgramRun run = bench({"--bytes", "4k", "--verify", uri_of(server)});
  EXPECT_EQ(run.status, 1) << describe(run);
  EXPECT_NE(run.output.find("read at 0: wrong data at offset 15"), std::string::npos)
      << describe(run);
}

TEST_P(BenchSmoke, CopyCopiesTheWholeExport) {
  // Not a whole number of 64 KiB blocks: the last request is shorter.
  const std::uint64_t size = (std::uint64_t{8} << 20) + 4096;
  const NbdkitServer source = memory_server(size);
  const NbdkitServer destination = memory_server(size);
  bench_ok({"--op", "write", "--block-size", "4k", "--bytes", std::to_string(size), "--verify",
            uri_of(source)});

  const ResultLine copy = bench_ok({"--block-size", "64k", "--in-flight", "8", "--connections", "2",
                                    "--copy", uri_of(source), uri_of(destination)});
  EXPECT_EQ(copy.text("mode"), "copy");
  EXPECT_EQ(copy.number("bytes"), static_cast<double>(size));
  EXPECT_EQ(copy.number("requests"), 2 * 129);  // 128 whole blocks and the tail, read and written
  EXPECT_GT(copy.number("mib_per_s"), 0);

  bench_ok(
      {"--block-size", "4k", "--bytes", std::to_string(size), "--verify", uri_of(destination)});
}

TEST_P(BenchSmoke, ConnectOnlyRunMovesNothing) {
  // syscalls.sh subtracts this run's system calls from a measured run's.
  const NbdkitServer server = memory_server(std::uint64_t{1} << 20);
  const ResultLine r = bench_ok({"--bytes", "0", uri_of(server)});
  EXPECT_EQ(r.number("requests"), 0);
  EXPECT_EQ(r.number("bytes"), 0);
  EXPECT_EQ(r.number("mib_per_s"), 0);
}

TEST_P(BenchSmoke, WrongCommandLineExitsWithStatus2) {
  const ProgramRun run = bench({"--pattern", "sideways", "nbd+unix:///?socket=/nonexistent"});
  EXPECT_EQ(run.status, 2) << describe(run);
  EXPECT_NE(run.output.find("--pattern is seq or rand, not 'sideways'"), std::string::npos)
      << describe(run);
  EXPECT_NE(run.output.find("usage:"), std::string::npos) << describe(run);
}

INSTANTIATE_TEST_SUITE_P(Builds, BenchSmoke, ::testing::ValuesIn(kBuilds),
                         [](const auto& p) { return std::string(p.param.library); });

}  // namespace
}  // namespace nbdref::bench::test
