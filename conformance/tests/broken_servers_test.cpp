// The suite's power, tested: nbdref-conform against mock servers that each
// break exactly one server rule (conformance/tests/broken_servers/*.nbd, a
// `serve` with one `fault=` or one feature withdrawn) must report exactly
// the failures the script's header expects, no more and no fewer; against
// the correct serve-mode mock (mockserver/scripts/serve/ram-disks.nbd) it
// must report no failure and no error at all.
//
// A script's header says which clause it breaks and what the suite makes of
// it, in the expectation-file format of conformance/expectations:
//
//   #! breaks S-HS-016
//   #! expect hs.reserved-flags-clear  fail  the greeting sets bit 5
//   #! only hs.*,opt.*      (optional: a fault that leaves no way into
//                            transmission fails every check that needs it)
//
// The test writes the `expect` lines to an expectation file and runs the
// catalogue (or the `only` part of it) with it against nbdref-mock playing
// the script on a Unix socket for every connection: any outcome other than
// the listed ones is a difference and fails the test. It also holds the header to its
// purpose: at least one expected failure, and one of the failing checks
// enforces the broken clause. Every fault the mock knows has a script here.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "checks/standard_catalogue.hpp"
#include "script/serve_fault.hpp"
#include "support/child_process.hpp"
#include "support/program_run.hpp"
#include "support/temp_dir.hpp"

namespace nbdref::conform {
namespace {

namespace fs = std::filesystem;

// Each check's own budget: a broken server that stops answering costs this.
constexpr const char* kCheckTimeoutSeconds = "2";
constexpr std::chrono::seconds kRunLimit{120};

struct ScriptHeader {
  std::string breaks;                     // the clause id
  std::vector<std::string> expectations;  // "CHECK-ID OUTCOME REASON"
  std::string only;                       // --only patterns, or empty
};

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

ScriptHeader read_header(const fs::path& script) {
  ScriptHeader h;
  std::istringstream in(read_file(script));
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("#! breaks ", 0) == 0) h.breaks = line.substr(10);
    if (line.rfind("#! expect ", 0) == 0) h.expectations.push_back(line.substr(10));
    if (line.rfind("#! only ", 0) == 0) h.only = line.substr(8);
  }
  return h;
}

std::vector<fs::path> broken_scripts() {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(NBDREF_BROKEN_SERVERS)) {
    if (entry.path().extension() == ".nbd") out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// gtest parameter names allow letters, digits and '_' only.
std::string case_name(const fs::path& script) {
  std::string name = script.stem().string();
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

// nbdref-mock playing `script` for every connection on a Unix socket, with
// disks shared by all connections (so data outlives one, as on a real
// server), until the object goes away.
class MockServer {
 public:
  explicit MockServer(const std::string& script)
      : socket_(dir_.file("mock.sock")),
        process_({NBDREF_MOCK_PROGRAM, "--unix", socket_, "--connections", "0", script},
                 test::SpawnOptions{dir_.file("mock.log")}) {
    // nbdref-mock renames the socket into place once it listens.
    for (int i = 0; i < 500 && !fs::exists(socket_); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  bool listening() const { return fs::exists(socket_); }
  std::string uri(const std::string& export_name) const {
    return "nbd+unix:///" + export_name + "?socket=" + socket_;
  }
  std::string output() const { return process_.output(); }

 private:
  test::TempDir dir_{"nbdref-mock"};
  std::string socket_;
  test::ChildProcess process_;
};

// Runs nbdref-conform with `options` against `target`.
test::ProgramRun conform(std::vector<std::string> options, const std::string& target) {
  std::vector<std::string> argv = {NBDREF_CONFORM_PROGRAM, "--timeout", kCheckTimeoutSeconds};
  argv.insert(argv.end(), options.begin(), options.end());
  argv.push_back(target);
  return test::run_program(argv, kRunLimit);
}

class BrokenServer : public ::testing::TestWithParam<fs::path> {};

TEST_P(BrokenServer, SuiteReportsExactlyTheExpectedFailures) {
  const fs::path script = GetParam();
  const ScriptHeader header = read_header(script);
  ASSERT_FALSE(header.breaks.empty()) << script << " has no '#! breaks CLAUSE' line";

  // Every expected check exists; at least one fails, and one that fails
  // enforces the clause the script breaks.
  bool fails = false, clause_checked = false;
  for (const std::string& line : header.expectations) {
    std::istringstream words(line);
    std::string id, outcome;
    words >> id >> outcome;
    const Check* check = standard_catalogue().find(id);
    ASSERT_NE(check, nullptr) << script << ": no check " << id << " in the catalogue";
    if (outcome != "fail") continue;
    fails = true;
    const auto& clauses = check->clauses;
    clause_checked |= std::find(clauses.begin(), clauses.end(), header.breaks) != clauses.end();
  }
  ASSERT_TRUE(fails) << script << " expects no check to fail";
  EXPECT_TRUE(clause_checked) << script << ": no expected failure is of a check enforcing "
                              << header.breaks;

  const test::TempDir dir("nbdref-broken");
  const std::string expect_file = dir.file("expectations.txt");
  {
    std::ofstream out(expect_file);
    out << "# from " << script.string() << '\n';
    for (const std::string& line : header.expectations) out << line << '\n';
  }
  std::vector<std::string> options = {"--expect", expect_file};
  if (!header.only.empty()) options.insert(options.end(), {"--only", header.only});
  const MockServer mock(script.string());
  ASSERT_TRUE(mock.listening()) << mock.output();
  const test::ProgramRun run = conform(options, mock.uri(""));
  EXPECT_EQ(run.status, 0) << test::describe(run);
}

INSTANTIATE_TEST_SUITE_P(Scripts, BrokenServer, ::testing::ValuesIn(broken_scripts()),
                         [](const auto& param_info) { return case_name(param_info.param); });

// Every fault of the mock (`serve fault=NAME`, mockserver's serve_fault.cpp)
// is played by some script, so the suite is shown to catch each of them.
TEST(BrokenServers, EveryFaultOfTheMockHasAScript) {
  std::set<std::string> played;
  for (const fs::path& script : broken_scripts()) {
    const std::string text = read_file(script);
    const std::size_t at = text.find("fault=");
    if (at == std::string::npos) continue;
    const std::size_t name = at + 6;
    played.insert(text.substr(name, text.find_first_of(" {\n", name) - name));
  }
  for (const auto& fault : mock::script::serve_faults()) {
    EXPECT_TRUE(played.contains(std::string(fault.name)))
        << "no script in " << NBDREF_BROKEN_SERVERS << " plays serve fault=" << fault.name;
  }
}

// The correct serve-mode mock passes every check: exit status 0 without
// --expect means no failure and no error (not applicable is fine).
void expect_all_pass(const std::string& export_name) {
  const MockServer mock(NBDREF_CORRECT_MOCK);
  ASSERT_TRUE(mock.listening()) << mock.output();
  const test::ProgramRun run = conform({}, mock.uri(export_name));
  EXPECT_EQ(run.status, 0) << test::describe(run) << "\nmock server:\n" << mock.output();
}

TEST(CorrectMock, WritableExportPassesEveryCheck) {
  expect_all_pass("");
}

TEST(CorrectMock, ReadOnlyExportPassesEveryCheck) {
  expect_all_pass("small");
}

}  // namespace
}  // namespace nbdref::conform
