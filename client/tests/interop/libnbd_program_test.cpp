// C programs written only against libnbd's documented API -- synchronous
// (tests/capi/libnbd_sync_program.c) and asynchronous
// (tests/capi/libnbd_async_program.c) -- are built twice, with libnbd's own
// header and library and unchanged with compat/libnbd.h and nbdref, and both
// builds run against the same real server. They must succeed and print the
// same thing.
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

void expect_same_behaviour(const char* libnbd_build, const char* nbdref_build,
                           const std::vector<std::string>& args, const char* last_line) {
  TempDir dir;
  const auto with_libnbd = run_program(libnbd_build, args, dir, "libnbd");
  const auto with_nbdref = run_program(nbdref_build, args, dir, "nbdref");
  EXPECT_NE(with_nbdref.find(last_line), std::string::npos) << with_nbdref;
  EXPECT_EQ(with_nbdref, with_libnbd);
}

class LibnbdProgram : public ::testing::TestWithParam<std::string> {};

TEST_P(LibnbdProgram, SynchronousBehavesAsWithLibnbd) {
  expect_same_behaviour(SYNC_LIBNBD, SYNC_NBDREF, program_args(interop_target(GetParam())),
                        "done\n");
}

// The asynchronous program writes, so it runs on the writable targets.
class LibnbdAsyncProgram : public ::testing::TestWithParam<std::string> {};

TEST_P(LibnbdAsyncProgram, BehavesAsWithLibnbd) {
  expect_same_behaviour(ASYNC_LIBNBD, ASYNC_NBDREF, program_args(interop_target(GetParam())),
                        "mismatched blocks 0\n");
}

INSTANTIATE_TEST_SUITE_P(Servers, LibnbdProgram,
                         ::testing::Values("NbdkitUnix", "NbdkitReadOnly", "QemuNbdTcp",
                                           "NbdServerTcp", "NbdServerReadOnly"),
                         [](const auto& p) { return p.param; });

INSTANTIATE_TEST_SUITE_P(Servers, LibnbdAsyncProgram,
                         ::testing::Values("NbdkitUnix", "QemuNbdTcp", "NbdServerTcp"),
                         [](const auto& p) { return p.param; });

// nbd_connect_command: the server runs as a subprocess on a socketpair.
TEST(LibnbdProgramCommand, BehavesAsWithLibnbdOverASubprocess) {
  const std::vector<std::string> args{"command", "nbdkit", "-s", "--exit-with-parent", "memory",
                                      "64M"};
  expect_same_behaviour(SYNC_LIBNBD, SYNC_NBDREF, args, "done\n");
  expect_same_behaviour(ASYNC_LIBNBD, ASYNC_NBDREF, args, "mismatched blocks 0\n");
}

}  // namespace
}  // namespace nbdref::test
