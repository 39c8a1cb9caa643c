// Every script in mockserver/scripts/hostile is one hostile (or unusual but
// valid) server. Each is played by an in-process mock server while our
// client, through the libnbd-compatible C API, does what the script's `#@`
// header says; the header also says exactly what must come of it (see
// hostile_header.hpp). One test per script, named after the file.
#include <signal.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <libnbd.h>

#include "hostile_header.hpp"
#include "hostile_runner.hpp"
#include "script/parser.hpp"
#include "script/vocabulary.hpp"
#include "server/in_process_server.hpp"

#ifndef HOSTILE_SCRIPTS_DIR
#error "HOSTILE_SCRIPTS_DIR must name the directory of the hostile scripts"
#endif
#ifndef CLAUSES_TSV
#error "CLAUSES_TSV must name the spec's clause table"
#endif

namespace nbdref::mock::hostile {
namespace {

namespace fs = std::filesystem;

// A client that hangs up must not kill the test process with SIGPIPE.
[[maybe_unused]] const bool sigpipe_ignored = [] {
  ::signal(SIGPIPE, SIG_IGN);
  return true;
}();

struct ScriptFile {
  std::string path;
  std::string name;  // the stem, as a test name
};

// gtest prints a parameter on failure: the script's path, not its bytes.
void PrintTo(const ScriptFile& f, std::ostream* os) {
  *os << f.path;
}

std::string test_name(const std::string& stem) {
  std::string out;
  for (char c : stem) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return out;
}

std::vector<ScriptFile> script_files() {
  std::vector<ScriptFile> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(HOSTILE_SCRIPTS_DIR, ec)) {
    if (entry.path().extension() != ".nbd") continue;
    files.push_back({entry.path().string(), test_name(entry.path().stem().string())});
  }
  std::sort(files.begin(), files.end(),
            [](const ScriptFile& a, const ScriptFile& b) { return a.name < b.name; });
  return files;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

const char* outcome_word(Verdict::Outcome o) {
  switch (o) {
    case Verdict::Outcome::Completed:
      return "completed";
    case Verdict::Outcome::Mismatch:
      return "mismatch";
    case Verdict::Outcome::Timeout:
      return "timeout";
    case Verdict::Outcome::ClientGone:
      return "client-gone";
    case Verdict::Outcome::ScriptError:
      return "script-error";
  }
  return "?";
}

// Whether the client's bytes, as the server recorded them, hold an option
// request for `option` (IHAVEOPT followed by the option's number).
bool client_sent_option(const Transcript& transcript, std::uint32_t option) {
  std::vector<std::uint8_t> sent;
  for (const auto& e : transcript.entries()) {
    if (e.direction == Transcript::Direction::ClientSent) {
      sent.insert(sent.end(), e.bytes.begin(), e.bytes.end());
    }
  }
  const std::uint8_t pattern[12] = {'I',
                                    'H',
                                    'A',
                                    'V',
                                    'E',
                                    'O',
                                    'P',
                                    'T',
                                    static_cast<std::uint8_t>(option >> 24),
                                    static_cast<std::uint8_t>(option >> 16),
                                    static_cast<std::uint8_t>(option >> 8),
                                    static_cast<std::uint8_t>(option)};
  return std::search(sent.begin(), sent.end(), std::begin(pattern), std::end(pattern)) !=
         sent.end();
}

class HostileScript : public ::testing::TestWithParam<ScriptFile> {};

TEST_P(HostileScript, ClientBehavesAsTheHeaderSays) {
  const ScriptFile& file = GetParam();
  const std::string text = read_file(file.path);
  ASSERT_FALSE(text.empty()) << file.path;

  auto header = parse_header(text);
  ASSERT_TRUE(header) << file.path << ": " << header.error();
  auto script = script::parse_script(text);
  ASSERT_TRUE(script) << script.error().describe(file.path);
  if (header->known_bug) {
    RecordProperty("known_bug", *header->known_bug);
    std::printf("[ KNOWN BUG ] %s: %s\n", file.name.c_str(), header->known_bug->c_str());
  }

  PlayOptions options;
  options.default_timeout = std::chrono::seconds(5);
  InProcessServer server(std::move(*script), options);

  nbd_handle* h = nbd_create();
  ASSERT_NE(h, nullptr) << nbd_get_error();
  ClientRunner runner(h, server.release_client_fd());

  bool settings_ok = true;
  for (const Setting& s : header->settings) settings_ok = runner.apply(s) && settings_ok;

  bool run_actions = settings_ok;
  const bool tls_built = nbd_supports_tls(h) == 1;
  if (header->pending_tls) {
    // A caller that demands TLS asks for it before connecting.
    const int rc = nbd_set_tls(h, LIBNBD_TLS_REQUIRE);
    if (!tls_built) {
      // Without TLS support the request must be refused, and a caller that
      // requires TLS goes no further: not one plaintext byte is sent.
      EXPECT_EQ(rc, -1);
      EXPECT_EQ(nbd_get_errno(), ENOTSUP) << nbd_get_error();
      EXPECT_NE(std::string(nbd_get_error()).find("no TLS support"), std::string::npos)
          << nbd_get_error();
      runner.drop_socket();
      run_actions = false;
    } else {
      // With TLS the `do` lines say how connecting fails; the never-sent
      // checks below say it failed before anything went out in plaintext.
      EXPECT_NE(rc, -1) << nbd_get_error();
      const bool connects =
          std::any_of(header->actions.begin(), header->actions.end(), [](const Action& a) {
            return a.kind == ActionKind::Connect && a.outcome.kind == Outcome::Kind::Fails;
          });
      EXPECT_TRUE(connects) << "a pending-tls script must show connecting fail";
    }
  }
  bool usable = false;  // the handle was ever ready or negotiating
  if (run_actions) {
    for (const Action& a : header->actions) {
      runner.run(a);
      if (runner.closed()) break;
      usable = usable || runner.usable();
    }
  }
  if (header->pending_tls && tls_built) {
    EXPECT_FALSE(usable) << "with TLS required, the client went on without it";
  }
  runner.close_and_check();

  const auto verdict = server.wait(std::chrono::seconds(10));
  ASSERT_TRUE(verdict.has_value()) << "the mock server did not finish within 10 s";
  if (header->verdict && *header->verdict != "any") {
    EXPECT_EQ(outcome_word(verdict->outcome), *header->verdict)
        << "the server's verdict: " << verdict->describe();
  }
  EXPECT_NE(verdict->outcome, Verdict::Outcome::ScriptError) << verdict->describe();
  for (const std::string& name : header->never_sent_options) {
    const auto code = script::resolve_symbol(script::Symbols::Options, name);
    ASSERT_TRUE(code.has_value()) << "unknown option " << name;
    EXPECT_FALSE(client_sent_option(server.transcript(), static_cast<std::uint32_t>(*code)))
        << "the client sent " << name;
  }
  if (HasFailure() || std::getenv("HOSTILE_VERBOSE")) {
    std::printf("---- %s: %s\n---- server verdict: %s\n---- transcript:\n%s---- client debug:\n%s",
                file.name.c_str(), header->summary.c_str(), verdict->describe().c_str(),
                server.transcript().text().c_str(), runner.debug_log().c_str());
  }
}

INSTANTIATE_TEST_SUITE_P(Scripts, HostileScript, ::testing::ValuesIn(script_files()),
                         [](const ::testing::TestParamInfo<ScriptFile>& p) {
                           return p.param.name;
                         });

// The client-side clause ids of the spec's clause table.
std::set<std::string> client_clause_ids() {
  std::set<std::string> ids;
  std::ifstream in(CLAUSES_TSV);
  std::string line;
  while (std::getline(in, line)) {
    const std::string id = line.substr(0, line.find('\t'));
    if (id.starts_with("C-") || id.starts_with("X-C-") || id.starts_with("X-B-")) ids.insert(id);
  }
  return ids;
}

TEST(HostileScripts, AtLeastSixtyEachCitingKnownClientClauses) {
  const auto files = script_files();
  EXPECT_GE(files.size(), 60u);
  const auto known = client_clause_ids();
  ASSERT_FALSE(known.empty()) << "cannot read " << CLAUSES_TSV;
  std::set<std::string> cited;
  for (const auto& f : files) {
    auto header = parse_header(read_file(f.path));
    ASSERT_TRUE(header) << f.path << ": " << header.error();
    EXPECT_FALSE(header->clauses.empty()) << f.path;
    for (const auto& c : header->clauses) {
      EXPECT_TRUE(known.contains(c))
          << f.path << " cites " << c << ", which is not a client-side clause of the spec";
      cited.insert(c);
    }
  }
  std::printf("%zu scripts cite %zu client-side clauses\n", files.size(), cited.size());
}

}  // namespace
}  // namespace nbdref::mock::hostile
