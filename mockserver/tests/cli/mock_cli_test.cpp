// The nbdref-mock command as people run it: checking and printing scripts,
// every way of listening, verdicts, exit statuses and transcripts.
#include <gtest/gtest.h>
#include <libnbd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "script/vocabulary.hpp"
#include "support/child_process.hpp"
#include "support/program_run.hpp"
#include "support/temp_dir.hpp"
#include "third_party/mock_process.hpp"

namespace nbdref::test {
namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

struct HandleCloser {
  void operator()(nbd_handle* h) const { nbd_close(h); }
};
using HandlePtr = std::unique_ptr<nbd_handle, HandleCloser>;

// Writes `text` as a script in `dir` and returns its path.
std::string script_file(const TempDir& dir, const std::string& name, const std::string& text) {
  const std::string path = dir.file(name);
  std::ofstream(path) << text;
  return path;
}

ProgramRun mock(std::vector<std::string> args) {
  args.insert(args.begin(), NBDREF_MOCK_TOOL);
  return run_program(std::move(args));
}

// A server that serves one disk whose first bytes say "hello".
const char* const HELLO_DISK =
    "serve {\n"
    "  export name=\"\" size=1M data=\"hello\"\n"
    "}\n";

// A script that refuses structured replies, then wants NBD_OPT_GO for
// "disk" and hangs up.
const char* const WANTS_GO =
    "greeting newstyle\n"
    "expect client-flags\n"
    "expect option STRUCTURED_REPLY\n"
    "reply STRUCTURED_REPLY error unsup\n"
    "expect option GO name=\"disk\" timeout=5s\n"
    "close\n";

TEST(MockCheck, ReportsTheFirstErrorWithLineAndColumn) {
  TempDir dir("nbdref-mock-cli");
  const auto path = script_file(dir, "bad.nbd", "greeting newstyle\n  greting oldstyle\n");
  const ProgramRun run = mock({"--check", path});
  EXPECT_EQ(run.status, 2) << describe(run);
  EXPECT_TRUE(contains(run.output, path + ":2:3: unknown step 'greting'")) << run.output;
}

TEST(MockCheck, AcceptsAGoodScriptAndCountsItsSteps) {
  TempDir dir("nbdref-mock-cli");
  const auto path = script_file(dir, "go.nbd", WANTS_GO);
  const ProgramRun run = mock({"--check", path});
  EXPECT_EQ(run.status, 0) << describe(run);
  EXPECT_EQ(run.output, path + ": 6 steps, no errors\n");
}

TEST(MockPrint, WritesTheScriptBackInCanonicalForm) {
  TempDir dir("nbdref-mock-cli");
  const auto path = script_file(dir, "messy.nbd",
                                "# comment\n  greeting   newstyle  flags=FIXED_NEWSTYLE\n"
                                "repeat 2 {\nraw hex:00ff\n}\n");
  const ProgramRun run = mock({"--print", path});
  EXPECT_EQ(run.status, 0) << describe(run);
  EXPECT_EQ(run.output,
            "greeting newstyle flags=FIXED_NEWSTYLE\n"
            "repeat 2 {\n"
            "  raw hex:00ff\n"
            "}\n");
}

TEST(MockHelp, ScriptHelpNamesEveryStepOfTheVocabulary) {
  const ProgramRun run = mock({"--help-script"});
  ASSERT_EQ(run.status, 0) << describe(run);
  for (const auto& form : mock::script::forms()) {
    EXPECT_TRUE(contains(run.output, "  " + std::string(form.pattern))) << form.pattern;
  }
}

TEST(MockUsage, ACommandLineItCannotActOnExitsWithTwo) {
  TempDir dir("nbdref-mock-cli");
  const auto path = script_file(dir, "go.nbd", WANTS_GO);
  const ProgramRun nowhere = mock({path});
  EXPECT_EQ(nowhere.status, 2) << describe(nowhere);
  EXPECT_TRUE(contains(nowhere.output, "give --unix, --tcp or --stdin")) << nowhere.output;
  const ProgramRun two = mock({"--unix", dir.file("a"), "--tcp", "0", path});
  EXPECT_EQ(two.status, 2) << describe(two);
  EXPECT_TRUE(contains(two.output, "only one of --unix, --tcp and --stdin")) << two.output;
  const ProgramRun missing = mock({"--check", dir.file("absent.nbd")});
  EXPECT_EQ(missing.status, 2) << describe(missing);
  EXPECT_TRUE(contains(missing.output, "cannot read the script")) << missing.output;
}

// S-OPT-001 is the server's side; here the client (nbdinfo --list) asks
// for NBD_OPT_LIST where the script wanted GO, and the verdict says so.
TEST(MockVerdict, AClientThatDiffersFailsTheScriptAndTheExitStatusIsOne) {
  TempDir dir("nbdref-mock-cli");
  MockProcess server(script_file(dir, "go.nbd", WANTS_GO), {"--connections", "1"});
  run_program({"nbdinfo", "--list", server.uri()});
  EXPECT_EQ(server.exit_status_within(std::chrono::seconds(10)), 1) << server.output();
  EXPECT_TRUE(contains(server.output(), "connection 1: FAILED: line 5: expect option GO"))
      << server.output();
  EXPECT_TRUE(contains(server.output(), "the client sent NBD_OPT_LIST (3)")) << server.output();
}

TEST(MockVerdict, AClientThatFollowsTheScriptCompletesItAndTheExitStatusIsZero) {
  TempDir dir("nbdref-mock-cli");
  MockProcess server(script_file(dir, "hello.nbd", HELLO_DISK), {"--connections", "1"});
  const ProgramRun info = run_program({"nbdinfo", "--size", server.uri()});
  EXPECT_EQ(info.output, "1048576\n");
  EXPECT_EQ(server.exit_status_within(std::chrono::seconds(10)), 0) << server.output();
  EXPECT_TRUE(contains(server.output(), "nbdref-mock: connection 1: completed")) << server.output();
}

TEST(MockTranscript, RecordsEveryMessageOfTheConnection) {
  TempDir dir("nbdref-mock-cli");
  const std::string transcript = dir.file("transcript.txt");
  MockProcess server(script_file(dir, "go.nbd", WANTS_GO),
                     {"--connections", "1", "--transcript", transcript, "--hex"});
  HandlePtr h(nbd_create());
  ASSERT_EQ(nbd_set_export_name(h.get(), "disk"), 0);
  ASSERT_EQ(nbd_set_request_extended_headers(h.get(), false), 0);
  // The script hangs up after the GO, so the connection fails.
  EXPECT_EQ(nbd_connect_unix(h.get(), server.socket().c_str()), -1);
  ASSERT_EQ(server.exit_status_within(std::chrono::seconds(10)), 0) << server.output();
  std::ifstream in(transcript);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_TRUE(contains(text.str(), "== connection 1 ==")) << text.str();
  EXPECT_TRUE(contains(text.str(), "S: newstyle greeting")) << text.str();
  EXPECT_TRUE(contains(text.str(), "C: NBD_OPT_GO (7)")) << text.str();
  EXPECT_TRUE(contains(text.str(), "4e 42 44 4d 41 47 49 43") ||
              contains(text.str(), "4e42444d41474943"))
      << "the greeting's bytes are missing:\n"
      << text.str();
}

TEST(MockListen, StdinServesAClientThatStartsItAsACommand) {
  TempDir dir("nbdref-mock-cli");
  const std::string path = script_file(dir, "hello.nbd", HELLO_DISK);
  HandlePtr h(nbd_create());
  std::vector<std::string> args{NBDREF_MOCK_TOOL, "--stdin", path};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  ASSERT_EQ(nbd_connect_command(h.get(), argv.data()), 0) << nbd_get_error();
  char buf[5] = {};
  ASSERT_EQ(nbd_pread(h.get(), buf, sizeof buf, 0, 0), 0) << nbd_get_error();
  EXPECT_EQ(std::string(buf, sizeof buf), "hello");
  EXPECT_EQ(nbd_shutdown(h.get(), 0), 0) << nbd_get_error();
}

TEST(MockListen, SystemdSocketActivationUsesThePassedSocket) {
  TempDir dir("nbdref-mock-cli");
  const std::string path = script_file(dir, "hello.nbd", HELLO_DISK);
  HandlePtr h(nbd_create());
  std::vector<std::string> args{NBDREF_MOCK_TOOL, path};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  ASSERT_EQ(nbd_connect_systemd_socket_activation(h.get(), argv.data()), 0) << nbd_get_error();
  EXPECT_EQ(nbd_get_size(h.get()), 1 << 20);
  EXPECT_EQ(nbd_shutdown(h.get(), 0), 0) << nbd_get_error();
}

TEST(MockListen, TcpOnAPickedPortWrittenToThePortFile) {
  TempDir dir("nbdref-mock-cli");
  const std::string port_file = dir.file("port");
  ChildProcess server({NBDREF_MOCK_TOOL, "--tcp", "0", "--port-file", port_file,
                       script_file(dir, "hello.nbd", HELLO_DISK)},
                      {.output_path = dir.file("output")});
  std::string port;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (port.empty() && std::chrono::steady_clock::now() < deadline) {
    std::ifstream(port_file) >> port;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_FALSE(port.empty()) << server.output();
  HandlePtr h(nbd_create());
  ASSERT_EQ(nbd_connect_tcp(h.get(), "127.0.0.1", port.c_str()), 0) << nbd_get_error();
  EXPECT_EQ(nbd_get_size(h.get()), 1 << 20);
  EXPECT_EQ(nbd_shutdown(h.get(), 0), 0) << nbd_get_error();
  ASSERT_TRUE(server.wait_for_exit(std::chrono::seconds(10))) << server.output();
  EXPECT_EQ(server.exit_status(), 0) << server.output();
  // The port went to stdout too, for people.
  EXPECT_TRUE(contains(server.output(), port + "\n")) << server.output();
}

TEST(MockConnections, ConnectionsOfOneRunShareTheirDisks) {
  TempDir dir("nbdref-mock-cli");
  MockProcess server(script_file(dir, "hello.nbd", HELLO_DISK), {"--connections", "2"});
  {
    HandlePtr writer(nbd_create());
    ASSERT_EQ(nbd_connect_unix(writer.get(), server.socket().c_str()), 0) << nbd_get_error();
    ASSERT_EQ(nbd_pwrite(writer.get(), "HOWDY", 5, 0, 0), 0) << nbd_get_error();
    ASSERT_EQ(nbd_shutdown(writer.get(), 0), 0) << nbd_get_error();
  }
  HandlePtr reader(nbd_create());
  ASSERT_EQ(nbd_connect_unix(reader.get(), server.socket().c_str()), 0) << nbd_get_error();
  char buf[5] = {};
  ASSERT_EQ(nbd_pread(reader.get(), buf, sizeof buf, 0, 0), 0) << nbd_get_error();
  EXPECT_EQ(std::string(buf, sizeof buf), "HOWDY");
  ASSERT_EQ(nbd_shutdown(reader.get(), 0), 0) << nbd_get_error();
  reader.reset();
  EXPECT_EQ(server.exit_status_within(std::chrono::seconds(10)), 0) << server.output();
  EXPECT_TRUE(contains(server.output(), "connection 2: completed")) << server.output();
}

}  // namespace
}  // namespace nbdref::test
