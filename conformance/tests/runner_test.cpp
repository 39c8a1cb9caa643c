// The runner's isolation: a server that hangs costs one check its timeout,
// a server that dies or crashes makes errors that say so (unless the check
// endangers the server and judges that itself), and every exception a check
// throws becomes an outcome, a protocol violation naming the clause it
// breaks; the run always goes on to the next check. Servers here are scripted in-process on a Unix
// socket, or shell commands started per connection.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <thread>

#include "probe/probe_error.hpp"
#include "runner/check_context.hpp"
#include "runner/runner.hpp"
#include "support/temp_dir.hpp"
#include "wire/handshake.hpp"
#include "wire/writer.hpp"

namespace nbdref::conform {
namespace {

using namespace std::chrono_literals;

// A Unix-socket server run by a thread: for each accepted connection it
// calls the behaviour with the connection's number. After `accept_limit`
// connections it stops listening and removes its socket, as a crashed
// server would.
class ScriptedUnixServer {
 public:
  using Behaviour = std::function<void(int index, transport::UniqueFd fd)>;

  explicit ScriptedUnixServer(Behaviour behaviour, int accept_limit = 1000)
      : dir_("nbdref-conform-runner"),
        path_(dir_.file("s.sock")),
        behaviour_(std::move(behaviour)),
        accept_limit_(accept_limit) {
    listener_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path_.copy(addr.sun_path, sizeof addr.sun_path - 1);
    if (::bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listener_.get(), 16) != 0) {
      throw std::runtime_error("cannot listen on " + path_);
    }
    thread_ = std::thread([this] { serve(); });
  }
  ~ScriptedUnixServer() {
    stop_ = true;
    thread_.join();
  }

  Target target() const {
    Target t;
    t.kind = Target::Kind::Unix;
    t.unix_path = path_;
    return t;
  }

 private:
  void serve() {
    int accepted = 0;
    while (!stop_) {
      pollfd p{listener_.get(), POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      transport::UniqueFd fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!fd) continue;
      behaviour_(accepted++, std::move(fd));
      if (accepted >= accept_limit_) {
        listener_.reset();
        ::unlink(path_.c_str());
        return;
      }
    }
  }

  test::TempDir dir_;
  std::string path_;
  Behaviour behaviour_;
  int accept_limit_;
  transport::UniqueFd listener_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

void send_greeting(int fd) {
  std::vector<std::uint8_t> bytes;
  wire::Writer w(bytes);
  wire::encode_newstyle_greeting({wire::NBD_FLAG_FIXED_NEWSTYLE}, w);
  ASSERT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
}

Outcome read_greeting(CheckContext& ctx) {
  Probe probe = ctx.connect();
  probe.read_greeting();
  return ctx.pass();
}

Outcome abort_not_applicable(CheckContext&) {
  throw CheckAbort{Status::NotApplicable, "feature missing"};
}

Outcome throw_violation(CheckContext&) {
  throw ProbeError(ProbeError::Kind::Violation, "bad magic [S-OPT-020]", "S-OPT-020");
}

Outcome throw_other(CheckContext&) {
  throw std::runtime_error("boom");
}

Outcome fail_outright(CheckContext& ctx) {
  return ctx.fail("did the wrong thing", "the right thing");
}

Outcome throw_violation_of_another_clause(CheckContext&) {
  throw ProbeError(ProbeError::Kind::Violation, "reply magic 0 [S-TX-001]", "S-TX-001");
}

// Connects, and fails whatever the server does: a check that judges the
// server's survival itself.
Outcome connect_then_fail(CheckContext& ctx) {
  try {
    Probe probe = ctx.connect();
    probe.read_greeting();
  } catch (const ProbeError&) {
    return ctx.fail("the server went away", "the server stays");
  }
  return ctx.fail("the server answered, yet this check fails", "the server stays");
}

Catalogue greeting_checks(int count) {
  Catalogue c;
  for (int i = 0; i < count; ++i) {
    c.add({"t.greet-" + std::to_string(i),
           "test",
           {"S-INT-002"},
           Level::Must,
           "the server greets",
           &read_greeting});
  }
  return c;
}

std::vector<const Check*> all(const Catalogue& c) {
  return c.select({}, {});
}

TEST(Runner, HungServerTimesOutOneCheckAndTheRunGoesOn) {
  std::vector<transport::UniqueFd> held;
  ScriptedUnixServer server([&held](int index, transport::UniqueFd fd) {
    if (index > 0) send_greeting(fd.get());
    held.push_back(std::move(fd));  // connection 0 hears nothing, ever
  });
  const Catalogue c = greeting_checks(2);
  RunOptions options;
  options.timeout = 300ms;
  const auto start = std::chrono::steady_clock::now();
  const RunResult run = run_checks(server.target(), all(c), options);
  ASSERT_EQ(run.results.size(), 2u);
  EXPECT_EQ(run.results[0].outcome.status, Status::Error);
  EXPECT_NE(run.results[0].outcome.observed.find("no answer within"), std::string::npos)
      << run.results[0].outcome.observed;
  EXPECT_EQ(run.results[1].outcome.status, Status::Pass);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST(Runner, PersistentServerThatDiesMakesErrorsNotAHang) {
  // The first connection is dropped and the server stops listening.
  ScriptedUnixServer server([](int, transport::UniqueFd) {}, 1);
  const Catalogue c = greeting_checks(2);
  RunOptions options;
  options.timeout = 500ms;
  const RunResult run = run_checks(server.target(), all(c), options);
  ASSERT_EQ(run.results.size(), 2u);
  EXPECT_EQ(run.results[0].outcome.status, Status::Error);
  EXPECT_NE(run.results[0].outcome.observed.find("stopped answering"), std::string::npos)
      << run.results[0].outcome.observed;
  EXPECT_NE(run.results[0].outcome.observed.find("closed the connection"), std::string::npos);
  EXPECT_EQ(run.results[1].outcome.status, Status::Error);
  EXPECT_NE(run.results[1].outcome.observed.find("cannot connect"), std::string::npos)
      << run.results[1].outcome.observed;
}

TEST(Runner, CommandServerKilledByASignalIsAnErrorThatSaysSo) {
  const Target target = command_target({"sh", "-c", "kill -KILL $$"}, false, "");
  const Catalogue c = greeting_checks(2);
  RunOptions options;
  options.timeout = 2s;
  const RunResult run = run_checks(target, all(c), options);
  ASSERT_EQ(run.results.size(), 2u);
  for (const CheckResult& r : run.results) {
    EXPECT_EQ(r.outcome.status, Status::Error);
    EXPECT_NE(r.outcome.observed.find("killed by a signal"), std::string::npos)
        << r.outcome.observed;
    ASSERT_EQ(r.transcripts.size(), 1u);
    EXPECT_NE(r.transcripts[0]->text(false).find("signal 9"), std::string::npos);
  }
}

TEST(Runner, CommandServerThatHangsIsStoppedAfterTheTimeout) {
  const Target target = command_target({"sleep", "30"}, false, "");
  const Catalogue c = greeting_checks(1);
  RunOptions options;
  options.timeout = 300ms;
  const auto start = std::chrono::steady_clock::now();
  const RunResult run = run_checks(target, all(c), options);
  EXPECT_EQ(run.results.at(0).outcome.status, Status::Error);
  // The child got SIGTERM when the check's connection closed.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST(Runner, ExceptionsBecomeOutcomes) {
  Catalogue c;
  c.add({"t.na", "test", {"S-INT-002"}, Level::Must, "needs a feature", &abort_not_applicable});
  c.add(
      {"t.violation", "test", {"S-OPT-020"}, Level::Must, "replies are framed", &throw_violation});
  c.add({"t.other", "test", {"S-INT-002"}, Level::Must, "does not throw", &throw_other});
  c.add({"t.fail", "test", {"S-INT-002"}, Level::Should, "does the right thing", &fail_outright});
  const Target target = command_target({"true"}, false, "");
  const RunResult run = run_checks(target, all(c), RunOptions{});
  ASSERT_EQ(run.results.size(), 4u);
  EXPECT_EQ(run.results[0].outcome.status, Status::NotApplicable);
  EXPECT_EQ(run.results[0].outcome.observed, "feature missing");
  EXPECT_EQ(run.results[1].outcome.status, Status::Fail);
  EXPECT_EQ(run.results[1].outcome.required, "replies are framed [S-OPT-020]");
  EXPECT_EQ(run.results[2].outcome.status, Status::Error);
  EXPECT_NE(run.results[2].outcome.observed.find("boom"), std::string::npos);
  EXPECT_EQ(run.results[3].outcome.status, Status::Fail);
  EXPECT_EQ(run.results[3].outcome.required, "the right thing");
}

TEST(Runner, AViolationOfAClauseTheCheckDoesNotCiteNamesThatClause) {
  Catalogue c;
  c.add({"t.framed",
         "test",
         {"S-OPT-020"},
         Level::Must,
         "replies are framed",
         &throw_violation_of_another_clause});
  const RunResult run = run_checks(command_target({"true"}, false, ""), all(c), RunOptions{});
  ASSERT_EQ(run.results.size(), 1u);
  const Outcome& o = run.results[0].outcome;
  EXPECT_EQ(o.status, Status::Fail);
  EXPECT_NE(o.required.find("[S-TX-001]"), std::string::npos) << o.required;
  EXPECT_NE(o.required.find("replies are framed [S-OPT-020]"), std::string::npos) << o.required;
}

TEST(Runner, ACheckThatEndangersTheServerKeepsItsOutcomeWhenTheServerDies) {
  const Target killed = command_target({"sh", "-c", "kill -KILL $$"}, false, "");
  Catalogue c;
  c.add({"t.ordinary", "test", {"S-INT-002"}, Level::Must, "the server stays", &connect_then_fail});
  c.add({"t.risky",
         "test",
         {"S-TX-012"},
         Level::MustNot,
         "the server stays",
         &connect_then_fail,
         true});
  RunOptions options;
  options.timeout = 2s;
  const RunResult run = run_checks(killed, all(c), options);
  ASSERT_EQ(run.results.size(), 2u);
  EXPECT_EQ(run.results[0].outcome.status, Status::Error);
  EXPECT_NE(run.results[0].outcome.observed.find("killed by a signal"), std::string::npos);
  EXPECT_EQ(run.results[1].outcome.status, Status::Fail);
  EXPECT_EQ(run.results[1].outcome.observed, "the server went away");

  // A persistent server that stops listening: no liveness verdict either.
  ScriptedUnixServer dying([](int, transport::UniqueFd) {}, 1);
  Catalogue risky;
  risky.add({"t.risky",
             "test",
             {"S-TX-012"},
             Level::MustNot,
             "the server stays",
             &connect_then_fail,
             true});
  const RunResult second = run_checks(dying.target(), all(risky), options);
  ASSERT_EQ(second.results.size(), 1u);
  EXPECT_EQ(second.results[0].outcome.status, Status::Fail);
}

TEST(Runner, ComparesWithExpectationsAndReportsProgress) {
  Catalogue c;
  c.add({"t.fail", "test", {"S-INT-002"}, Level::Must, "x", &fail_outright});
  c.add({"t.fail-too", "test", {"S-INT-002"}, Level::Must, "x", &fail_outright});
  auto expectations = Expectations::parse("t.fail fail known bug\n", "e.txt");
  ASSERT_TRUE(expectations);
  RunOptions options;
  options.expectations = &*expectations;
  std::vector<std::string> events;
  const RunResult run = run_checks(
      command_target({"true"}, false, ""), all(c), options,
      [&events](std::size_t pos, std::size_t total, const Check& check, const CheckResult* done) {
        events.push_back(std::to_string(pos) + "/" + std::to_string(total) + " " + check.id +
                         (done ? " done" : ""));
      });
  EXPECT_FALSE(run.results[0].difference);
  ASSERT_TRUE(run.results[0].expectation);
  EXPECT_TRUE(run.results[1].difference);
  EXPECT_EQ(run.summary().differences, 1u);
  EXPECT_EQ(run.expectation_source, "e.txt");
  EXPECT_EQ(events, (std::vector<std::string>{"1/2 t.fail", "1/2 t.fail done", "2/2 t.fail-too",
                                              "2/2 t.fail-too done"}));
}

TEST(Runner, EachCheckGetsItsOwnScratchRegion) {
  const Target target = command_target({"true"}, false, "");
  CheckContext first(target, Deadline::after(1s), 0);
  CheckContext third(target, Deadline::after(1s), 2);
  EXPECT_EQ(first.scratch_offset(64 << 20), 0u);
  EXPECT_EQ(third.scratch_offset(64 << 20), 2 * CheckContext::kScratchRegionSize);
  EXPECT_THROW(third.scratch_offset(CheckContext::kScratchRegionSize), CheckAbort);
}

}  // namespace
}  // namespace nbdref::conform
