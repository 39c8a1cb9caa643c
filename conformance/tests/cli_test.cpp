// nbdref-conform, the program: its command line, exit statuses and output
// files, with nbdkit started per connection as the server.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "../tools/conform/command_line.hpp"
#include "support/program_run.hpp"
#include "support/temp_dir.hpp"
#include "support/test_pki.hpp"

namespace nbdref::conform {
namespace {

using test::ProgramRun;

const std::vector<std::string> kNbdkit = {"--",     "nbdkit", "-s", "--exit-with-parent",
                                          "memory", "64M"};

ProgramRun conform(std::vector<std::string> args) {
  args.insert(args.begin(), NBDREF_CONFORM_PROGRAM);
  return test::run_program(args, std::chrono::seconds(60));
}

std::vector<std::string> with_nbdkit(std::vector<std::string> args) {
  args.insert(args.end(), kNbdkit.begin(), kNbdkit.end());
  return args;
}

std::string file_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(CommandLine, ParsesATargetAndOptions) {
  auto cl = parse_command_line({"--only", "opt.*,hs.*", "--skip=opt.abort-*", "--timeout", "2.5",
                                "-v", "nbd://localhost/x"});
  ASSERT_TRUE(cl) << cl.error().message;
  EXPECT_EQ(cl->only, (std::vector<std::string>{"opt.*", "hs.*"}));
  EXPECT_EQ(cl->skip, (std::vector<std::string>{"opt.abort-*"}));
  EXPECT_EQ(cl->timeout, std::chrono::milliseconds(2500));
  EXPECT_TRUE(cl->verbose);
  EXPECT_EQ(cl->uri, "nbd://localhost/x");
}

TEST(CommandLine, TakesEverythingAfterTheDashesAsTheCommand) {
  auto cl = parse_command_line({"--export", "disk", "--socket-activation", "--", "server", "-v"});
  ASSERT_TRUE(cl) << cl.error().message;
  EXPECT_EQ(cl->command, (std::vector<std::string>{"server", "-v"}));
  EXPECT_FALSE(cl->verbose);
  EXPECT_TRUE(cl->socket_activation);
  EXPECT_EQ(cl->export_name, "disk");
}

TEST(CommandLine, RefusesWhatMakesNoSense) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {},
           {"--bogus", "nbd://x"},
           {"--timeout", "0", "nbd://x"},
           {"--timeout", "abc", "nbd://x"},
           {"nbd://a", "nbd://b"},
           {"nbd://a", "--", "cmd"},
           {"--socket-activation", "nbd://a"},
           {"--export", "e", "nbd://a"},
           {"--only"},
           {"--tls-certificates", "d", "--tls-psk-file", "f", "nbds://a"},
           {"--"}}) {
    auto cl = parse_command_line(args);
    EXPECT_FALSE(cl) << "accepted " << ::testing::PrintToString(args);
    if (!cl) {
      EXPECT_EQ(cl.error().errnum, EINVAL);
    }
  }
}

TEST(ConformProgram, HelpListAndCoverageNeedNoServer) {
  EXPECT_EQ(conform({"--help"}).status, 0);
  const ProgramRun list = conform({"--list", "--only", "hs.*"});
  EXPECT_EQ(list.status, 0);
  EXPECT_NE(list.output.find("hs.newstyle-greeting"), std::string::npos) << list.output;
  EXPECT_EQ(list.output.find("opt."), std::string::npos);
  const ProgramRun coverage = conform({"--coverage"});
  EXPECT_EQ(coverage.status, 0);
  EXPECT_NE(coverage.output.find("of 268"), std::string::npos) << coverage.output;
  // Each uncovered clause with the reason uncovered.tsv gives.
  EXPECT_NE(coverage.output.find("why not: needs a server shutting down"), std::string::npos)
      << coverage.output;
  EXPECT_EQ(coverage.output.find("(no reason given)"), std::string::npos) << coverage.output;
}

TEST(ConformProgram, UsageErrorsAndAnUnreachableServerExitWith2) {
  EXPECT_EQ(conform({"--bogus"}).status, 2);
  // TLS credentials for a plaintext URI.
  EXPECT_EQ(conform({"nbd+unix:///?socket=/nonexistent/nbd.sock&tls-certificates=/tmp"}).status, 2);
  EXPECT_EQ(conform({"--tls-psk-file", "/nonexistent/keys.psk",
                     "nbd+unix:///?socket=/nonexistent/nbd.sock"})
                .status,
            2);
  const ProgramRun unreachable = conform({"nbd+unix:///?socket=/nonexistent/nbd.sock"});
  EXPECT_EQ(unreachable.status, 2);
  EXPECT_NE(unreachable.output.find("does not answer"), std::string::npos) << unreachable.output;
}

TEST(ConformProgram, ExpectationNamingAnUnknownCheckIsAUsageError) {
  test::TempDir dir("nbdref-conform-cli");
  const std::string path = dir.file("e.txt");
  std::ofstream(path) << "opt.no-such-check fail reason\n";
  const ProgramRun run = conform(with_nbdkit({"--expect", path}));
  EXPECT_EQ(run.status, 2);
  EXPECT_NE(run.output.find("no check 'opt.no-such-check'"), std::string::npos) << run.output;
}

TEST(ConformProgram, DifferencesExitWith1) {
  test::TempDir dir("nbdref-conform-cli");
  const std::string path = dir.file("e.txt");
  // nbdkit speaks newstyle, so this check is not applicable, not a pass.
  std::ofstream(path) << "hs.oldstyle-no-handshake-flags pass wrongly expected\n";
  const ProgramRun run =
      conform(with_nbdkit({"--only", "hs.oldstyle-no-handshake-flags", "--expect", path}));
  EXPECT_EQ(run.status, 1) << describe(run);
  EXPECT_NE(run.output.find("Differences from " + path + ": 1"), std::string::npos) << run.output;
}

TEST(ConformProgram, RunsASocketActivatedServer) {
  const ProgramRun run =
      conform({"--socket-activation", "--only", "hs.newstyle-greeting,opt.go-export", "--",
               "nbdkit", "-f", "--exit-with-parent", "memory", "1M"});
  EXPECT_EQ(run.status, 0) << describe(run);
  EXPECT_NE(run.output.find("2 passed"), std::string::npos) << run.output;
}

TEST(ConformProgram, WritesJUnitAndJsonFiles) {
  test::TempDir dir("nbdref-conform-cli");
  const ProgramRun run = conform(
      with_nbdkit({"--only", "hs.*", "--junit", dir.file("r.xml"), "--json", dir.file("r.json")}));
  EXPECT_EQ(run.status, 0) << describe(run);
  EXPECT_NE(file_text(dir.file("r.xml")).find("<testsuite name=\"handshake\""), std::string::npos);
  EXPECT_NE(file_text(dir.file("r.json")).find("\"id\":\"hs.newstyle-greeting\""),
            std::string::npos);
}

TEST(CommandLine, TakesTlsCredentials) {
  auto cl = parse_command_line({"--tls-psk-file", "keys.psk", "--tls-username=alice", "--",
                                "nbdkit", "-s", "--tls=require", "memory", "1M"});
  ASSERT_TRUE(cl) << cl.error().message;
  EXPECT_EQ(cl->tls_psk_file, "keys.psk");
  EXPECT_EQ(cl->tls_username, "alice");
  EXPECT_FALSE(cl->tls_certificates);
}

// Without TLS credentials every tls.* check is not applicable, and says why.
TEST(ConformProgram, TlsChecksDoNotApplyToAPlaintextTarget) {
  const ProgramRun run = conform(with_nbdkit({"--only", "tls.*"}));
  EXPECT_EQ(run.status, 0) << describe(run);
  EXPECT_NE(run.output.find("0 passed, 0 failed"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("the target offers no TLS credentials"), std::string::npos)
      << run.output;
}

// --tls-psk-file makes a command target a TLS target: nbdkit started per
// connection with --tls=require, every connection negotiating TLS.
TEST(ConformProgram, TlsOptionsMakeACommandTargetNegotiateTls) {
  const std::string keys = test::TestPki::get().psk_file;
  const ProgramRun run =
      conform({"--only", "tls.starttls-ack,tls.tls12,tls.go-before-tls,opt.go-export",
               "--tls-psk-file", keys, "--tls-username", "alice", "--", "nbdkit", "-s",
               "--exit-with-parent", "--tls=require", "--tls-psk=" + keys, "memory", "1M"});
  EXPECT_EQ(run.status, 0) << describe(run);
  EXPECT_NE(run.output.find("4 passed"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("TLS with PSK user \"alice\""), std::string::npos) << run.output;
}

}  // namespace
}  // namespace nbdref::conform
