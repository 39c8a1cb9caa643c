// A C program written only against libnbd's documented synchronous API
// (tests/capi/libnbd_sync_program.c) is built twice -- with libnbd's own
// header and library, and unchanged with compat/libnbd.h and nbdref -- and
// both builds run against the same real server. They must succeed and print
// the same thing.
#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "interop_targets.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

namespace nbdref::test {
namespace {

std::string run_program(const std::string& program, const std::vector<std::string>& args,
                        TempDir& dir, const std::string& label) {
  std::vector<std::string> argv{program};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildProcess child(argv, SpawnOptions{dir.file(label + ".out"), -1, true});
  EXPECT_TRUE(child.wait_for_exit(std::chrono::seconds(60))) << child.command_line();
  EXPECT_EQ(child.exit_status(), 0) << child.command_line() << "\n" << child.output();
  return child.output();
}

std::vector<std::string> program_args(const InteropTarget& t) {
  if (t.endpoint.is_unix()) return {"unix", t.endpoint.unix_path, t.export_name};
  return {"tcp", t.endpoint.host, t.endpoint.port, t.export_name};
}

void expect_same_behaviour(const std::vector<std::string>& args) {
  TempDir dir;
  const auto with_libnbd = run_program(LIBNBD_BUILD, args, dir, "libnbd");
  const auto with_nbdref = run_program(NBDREF_BUILD, args, dir, "nbdref");
  EXPECT_NE(with_nbdref.find("done\n"), std::string::npos) << with_nbdref;
  EXPECT_EQ(with_nbdref, with_libnbd);
}

class LibnbdProgram : public ::testing::TestWithParam<std::string> {};

TEST_P(LibnbdProgram, BehavesAsWithLibnbd) {
  expect_same_behaviour(program_args(interop_target(GetParam())));
}

INSTANTIATE_TEST_SUITE_P(Servers, LibnbdProgram,
                         ::testing::Values("NbdkitUnix", "NbdkitReadOnly", "QemuNbdTcp",
                                           "NbdServerTcp", "NbdServerReadOnly"),
                         [](const auto& p) { return p.param; });

// nbd_connect_command: the server runs as a subprocess on a socketpair.
TEST(LibnbdProgramCommand, BehavesAsWithLibnbdOverASubprocess) {
  expect_same_behaviour({"command", "nbdkit", "-s", "--exit-with-parent", "memory", "64M"});
}

}  // namespace
}  // namespace nbdref::test
