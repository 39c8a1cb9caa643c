// nbdref-mock --relay --record: the relay's target syntax, its command
// line, and a real conversation -- our client through the relay to nbdkit
// -- recorded byte for byte: each file holds exactly what its side sent,
// the timeline adds up to the files, and the recorded server stream, fed
// to a fresh engine asked for the same things, makes it send exactly the
// recorded client bytes.
#include <gtest/gtest.h>
#include <libnbd.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "engine/connection.hpp"
#include "relay/relay_target.hpp"
#include "support/child_process.hpp"
#include "support/nbdkit_server.hpp"
#include "support/program_run.hpp"
#include "support/temp_dir.hpp"
#include "wire/constants.hpp"

namespace nbdref::test {
namespace {

using mock::relay::parse_relay_target;
using mock::relay::RelayTarget;

constexpr std::uint64_t EXPORT_SIZE = 1 << 20;
constexpr std::size_t IO_SIZE = 4096;
constexpr std::uint64_t WRITE_OFFSET = 8192;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::vector<std::uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool starts_with(const std::vector<std::uint8_t>& bytes, const std::vector<std::uint8_t>& prefix) {
  return bytes.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), bytes.begin());
}

std::vector<std::uint8_t> text_bytes(const std::string& text) {
  return {text.begin(), text.end()};
}

// nbdref-mock --relay TARGET listening on a Unix socket in `dir`, for one
// connection unless `extra` says otherwise.
class RelayProcess {
 public:
  RelayProcess(const TempDir& dir, const std::string& target, std::vector<std::string> extra)
      : socket_(dir.file("relay.sock")),
        child_(argv(target, std::move(extra)), {.output_path = dir.file("relay.out")}) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    struct stat st {};
    while (::stat(socket_.c_str(), &st) != 0) {
      if (child_.has_exited() || std::chrono::steady_clock::now() > deadline) {
        throw std::runtime_error(child_.command_line() + " did not listen (" +
                                 child_.exit_description() + "):\n" + child_.output());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  const std::string& socket() const { return socket_; }
  std::string output() const { return child_.output(); }
  std::optional<int> exit_status_within(std::chrono::milliseconds limit) {
    if (!child_.wait_for_exit(limit)) return std::nullopt;
    return child_.exit_status();
  }

 private:
  std::vector<std::string> argv(const std::string& target, std::vector<std::string> extra) const {
    std::vector<std::string> a{NBDREF_MOCK_TOOL, "--unix", socket_, "--relay", target};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  std::string socket_;
  ChildProcess child_;
};

struct HandleCloser {
  void operator()(nbd_handle* h) const { nbd_close(h); }
};
using HandlePtr = std::unique_ptr<nbd_handle, HandleCloser>;

std::uint8_t pattern_byte(std::size_t i) {
  return static_cast<std::uint8_t>(i * 7 + 3);
}

// What our client did through the relay, to compare the replay with.
struct ClientSession {
  std::vector<std::uint8_t> read_back;
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  int extent_calls = 0;
};

// Through the C API: base:allocation, a write, a read of it back, block
// status over the export, and an orderly shutdown.
ClientSession run_client(const std::string& socket) {
  HandlePtr h(nbd_create());
  EXPECT_NE(h, nullptr);
  ClientSession s;
  std::vector<std::uint8_t> data(IO_SIZE);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = pattern_byte(i);
  s.read_back.resize(IO_SIZE);
  EXPECT_EQ(nbd_add_meta_context(h.get(), "base:allocation"), 0) << nbd_get_error();
  EXPECT_EQ(nbd_connect_unix(h.get(), socket.c_str()), 0) << nbd_get_error();
  EXPECT_EQ(nbd_pwrite(h.get(), data.data(), data.size(), WRITE_OFFSET, 0), 0) << nbd_get_error();
  EXPECT_EQ(nbd_pread(h.get(), s.read_back.data(), s.read_back.size(), WRITE_OFFSET, 0), 0)
      << nbd_get_error();
  nbd_extent_callback extents{};
  extents.callback = [](void* user, const char*, std::uint64_t, std::uint32_t*, std::size_t, int*) {
    ++*static_cast<int*>(user);
    return 0;
  };
  extents.user_data = &s.extent_calls;
  EXPECT_EQ(nbd_block_status(h.get(), EXPORT_SIZE, 0, extents, 0), 0) << nbd_get_error();
  EXPECT_EQ(nbd_shutdown(h.get(), 0), 0) << nbd_get_error();
  s.bytes_sent = nbd_stats_bytes_sent(h.get());
  s.bytes_received = nbd_stats_bytes_received(h.get());
  EXPECT_EQ(s.read_back, data);
  return s;
}

// Counts what a replayed command reports.
class ReplayListener : public engine::CommandListener {
 public:
  void on_extents(const engine::MetaContext& context, std::uint64_t,
                  std::span<const wire::BlockDescriptor>, int&) override {
    EXPECT_EQ(context.name, "base:allocation");
    ++extent_calls;
  }
  void on_complete(const engine::CommandOutcome& outcome) override {
    ++completions;
    errnum = outcome.errnum;
  }
  int extent_calls = 0;
  int completions = 0;
  int errnum = -1;
};

TEST(RelayTarget, ParsesUnixAndTcpAddresses) {
  const auto unix_target = parse_relay_target("unix:/tmp/s.sock");
  ASSERT_TRUE(unix_target) << unix_target.error();
  EXPECT_EQ(unix_target->kind, RelayTarget::Kind::Unix);
  EXPECT_EQ(unix_target->path, "/tmp/s.sock");

  const auto tcp = parse_relay_target("localhost:10809");
  ASSERT_TRUE(tcp) << tcp.error();
  EXPECT_EQ(tcp->kind, RelayTarget::Kind::Tcp);
  EXPECT_EQ(tcp->host, "localhost");
  EXPECT_EQ(tcp->port, "10809");

  const auto v6 = parse_relay_target("[::1]:10809");
  ASSERT_TRUE(v6) << v6.error();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, "10809");
}

TEST(RelayTarget, RefusesWhatIsNeitherForm) {
  EXPECT_FALSE(parse_relay_target("unix:"));
  EXPECT_FALSE(parse_relay_target("localhost"));
  EXPECT_FALSE(parse_relay_target("localhost:"));
  EXPECT_FALSE(parse_relay_target(":10809"));
}

TEST(RelayCommandLine, RecordNeedsRelayAndRelayTakesNoScript) {
  const ProgramRun record_alone = run_program(
      {NBDREF_MOCK_TOOL, "--unix", "/tmp/x.sock", "--record", "/tmp/rec", "script.nbd"});
  EXPECT_EQ(record_alone.status, 2) << describe(record_alone);
  EXPECT_TRUE(contains(record_alone.output, "--record goes with --relay")) << record_alone.output;

  const ProgramRun with_script = run_program(
      {NBDREF_MOCK_TOOL, "--unix", "/tmp/x.sock", "--relay", "unix:/tmp/s", "script.nbd"});
  EXPECT_EQ(with_script.status, 2) << describe(with_script);
  EXPECT_TRUE(contains(with_script.output, "--relay takes no script")) << with_script.output;

  const ProgramRun bad_target =
      run_program({NBDREF_MOCK_TOOL, "--unix", "/tmp/x.sock", "--relay", "nowhere"});
  EXPECT_EQ(bad_target.status, 2) << describe(bad_target);
  EXPECT_TRUE(contains(bad_target.output, "neither unix:PATH nor HOST:PORT")) << bad_target.output;
}

TEST(RecordingRelay, RecordsBothSidesOfAConversationWithNbdkit) {
  NbdkitServer nbdkit({.plugin_args = {"size=1M"}});
  TempDir dir("nbdref-relay");
  const std::string record = dir.file("record");
  RelayProcess relay(dir, "unix:" + nbdkit.endpoint().unix_path, {"--record", record});

  const ClientSession client = run_client(relay.socket());
  EXPECT_EQ(client.extent_calls, 1);
  ASSERT_EQ(relay.exit_status_within(std::chrono::seconds(10)), 0) << relay.output();

  const auto server_bytes = read_bytes(record + "/conn-1.server.bin");
  const auto client_bytes = read_bytes(record + "/conn-1.client.bin");
  EXPECT_EQ(server_bytes.size(), client.bytes_received);
  EXPECT_EQ(client_bytes.size(), client.bytes_sent);
  EXPECT_TRUE(
      contains(relay.output(), "connection 1: relayed " + std::to_string(client_bytes.size()) +
                                   " bytes from the client and " +
                                   std::to_string(server_bytes.size()) + " from the server"))
      << relay.output();

  // proto.md "Newstyle negotiation": the server greets with NBDMAGIC and
  // IHAVEOPT; the client answers with its flags, then its first option.
  EXPECT_TRUE(starts_with(server_bytes, text_bytes("NBDMAGICIHAVEOPT")));
  EXPECT_TRUE(starts_with(
      client_bytes, {0, 0, 0, wire::NBD_FLAG_C_FIXED_NEWSTYLE | wire::NBD_FLAG_C_NO_ZEROES, 'I',
                     'H', 'A', 'V', 'E', 'O', 'P', 'T'}));

  // The timeline adds up to the files and ends with both sides closing.
  std::istringstream timeline(read_text(record + "/conn-1.timeline"));
  std::uint64_t client_total = 0, server_total = 0;
  int ends = 0;
  for (std::string stamp, side, what; timeline >> stamp >> side >> what;) {
    if (what == "end:") {
      std::string why;
      timeline >> why;
      EXPECT_EQ(why, "closed") << side;
      ++ends;
      continue;
    }
    (side == "client" ? client_total : server_total) += std::stoull(what);
  }
  EXPECT_EQ(client_total, client_bytes.size());
  EXPECT_EQ(server_total, server_bytes.size());
  EXPECT_EQ(ends, 2);

  // The same requests through a fresh engine, fed the recorded server
  // stream: the handshake up to transmission, then the commands as the
  // client issued them, then the rest of the stream.
  engine::ConnectionConfig config;
  config.meta_contexts = {"base:allocation"};
  engine::Connection replay(config);
  // What the engine sends goes out before the server's answer to it comes in.
  std::vector<std::uint8_t> sent;
  const auto send = [&] {
    const auto out = replay.take_output();
    sent.insert(sent.end(), out.begin(), out.end());
  };
  std::size_t at = 0;
  while (at < server_bytes.size() && replay.phase() == engine::Phase::Handshaking) {
    send();
    replay.feed({&server_bytes[at++], 1});
  }
  ASSERT_EQ(replay.phase(), engine::Phase::Ready);
  std::vector<std::uint8_t> data(IO_SIZE), read_back(IO_SIZE);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = pattern_byte(i);
  ReplayListener write_done, read_done, status_done;
  auto write = engine::make_request(wire::NBD_CMD_WRITE, WRITE_OFFSET, IO_SIZE, 0);
  write.write_data = data.data();
  write.listener = &write_done;
  auto read = engine::make_request(wire::NBD_CMD_READ, WRITE_OFFSET, IO_SIZE, 0);
  read.read_buffer = read_back.data();
  read.listener = &read_done;
  auto status = engine::make_request(wire::NBD_CMD_BLOCK_STATUS, 0, EXPORT_SIZE, 0);
  status.listener = &status_done;
  ASSERT_TRUE(replay.submit(write));
  ASSERT_TRUE(replay.submit(read));
  ASSERT_TRUE(replay.submit(status));
  ASSERT_TRUE(replay.disconnect(false));
  send();
  replay.feed(std::span(server_bytes).subspan(at));
  send();
  replay.input_eof();

  EXPECT_EQ(sent, client_bytes);
  EXPECT_EQ(replay.phase(), engine::Phase::Closed);
  for (const ReplayListener* done : {&write_done, &read_done, &status_done}) {
    EXPECT_EQ(done->completions, 1);
    EXPECT_EQ(done->errnum, 0);
  }
  EXPECT_EQ(status_done.extent_calls, client.extent_calls);
  EXPECT_EQ(read_back, client.read_back);
}

TEST(RecordingRelay, ReportsAServerItCannotReach) {
  TempDir dir("nbdref-relay");
  RelayProcess relay(dir, "unix:" + dir.file("nobody.sock"), {});
  HandlePtr h(nbd_create());
  ASSERT_NE(h, nullptr);
  // The relay accepts, fails to reach the server and hangs up.
  EXPECT_EQ(nbd_connect_unix(h.get(), relay.socket().c_str()), -1);
  ASSERT_EQ(relay.exit_status_within(std::chrono::seconds(10)), 1) << relay.output();
  EXPECT_TRUE(contains(relay.output(),
                       "connection 1: FAILED: cannot reach unix:" + dir.file("nobody.sock")))
      << relay.output();
}

}  // namespace
}  // namespace nbdref::test
