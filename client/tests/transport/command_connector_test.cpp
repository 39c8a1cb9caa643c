#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <string>

#include "test_sockets.hpp"
#include "transport/connector.hpp"
#include "transport/socket_stream.hpp"

namespace nbdref::transport {
namespace {

using State = ConnectProgress::State;
using test::read_exactly;
using test::segment;

// A running command and our stream to it; destroying it closes the stream,
// then reaps the child.
struct Running {
  explicit Running(std::vector<std::string> argv) {
    auto connector = connect_command(std::move(argv));
    const ConnectProgress progress = connector->step();
    EXPECT_EQ(progress.state, State::Connected) << progress.error.message;
    child = connector->take_subprocess();
    stream = make_socket_stream(connector->take_socket());
  }
  std::unique_ptr<Subprocess> child;
  std::unique_ptr<Stream> stream;
};

TEST(CommandConnect, ReadsWhatTheCommandWrites) {
  Running r({"sh", "-c", "echo hello; cat >/dev/null"});
  ASSERT_NE(r.child, nullptr);
  EXPECT_GT(r.child->pid(), 0);
  EXPECT_EQ(read_exactly(*r.stream, 6), "hello\n");
}

TEST(CommandConnect, CommandReadingItsStdinEchoesOurBytes) {
  Running r({"cat"});
  const std::string a = "ping ", b = "pong";
  const iovec segments[] = {segment(a), segment(b)};
  const IoResult written = r.stream->write(segments);
  ASSERT_EQ(written.status, IoStatus::Done);
  EXPECT_EQ(written.bytes, 9u);
  EXPECT_EQ(read_exactly(*r.stream, 9), "ping pong");
}

TEST(CommandConnect, EofWhenTheCommandExits) {
  Running r({"sh", "-c", "echo bye"});
  EXPECT_EQ(read_exactly(*r.stream, 4), "bye\n");
  std::uint8_t byte[1];
  ASSERT_TRUE(test::wait_for(r.stream->fd(), POLLIN));
  EXPECT_EQ(r.stream->read(byte).status, IoStatus::Eof);
}

TEST(CommandConnect, ChildStartsWithTheDefaultSigpipeAction) {
  // An application that ignores SIGPIPE must not pass that on to its server.
  struct sigaction ignore {};
  struct sigaction previous {};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(sigaction(SIGPIPE, &ignore, &previous), 0);
  Running r({"sh", "-c", "exec grep SigIgn /proc/self/status"});
  sigaction(SIGPIPE, &previous, nullptr);

  const std::string line = read_exactly(*r.stream, 25);  // "SigIgn:\t" and 16 hex digits, "\n"
  ASSERT_EQ(line.rfind("SigIgn:\t", 0), 0u) << line;
  const unsigned long long ignored = std::strtoull(line.c_str() + 8, nullptr, 16);
  EXPECT_EQ(ignored & (1ULL << (SIGPIPE - 1)), 0u) << line;
}

TEST(CommandConnect, DescribeListsTheCommand) {
  EXPECT_EQ(connect_command({"nbdkit", "-s", "memory", "1G"})->describe(),
            "command: nbdkit -s memory 1G");
}

TEST(CommandConnect, EmptyCommandFailsWithEinval) {
  auto connector = connect_command({});
  const ConnectProgress progress = connector->step();
  ASSERT_EQ(progress.state, State::Failed);
  EXPECT_EQ(progress.error.errnum, EINVAL);
  EXPECT_EQ(connector->take_subprocess(), nullptr);
}

TEST(CommandConnect, MissingProgramFailsWithEnoentNamingIt) {
  auto connector = connect_command({"nbdref-no-such-program", "--flag"});
  const ConnectProgress progress = connector->step();
  ASSERT_EQ(progress.state, State::Failed);
  EXPECT_EQ(progress.error.errnum, ENOENT);
  EXPECT_NE(progress.error.message.find("nbdref-no-such-program"), std::string::npos)
      << progress.error.message;
  EXPECT_EQ(connector->fd(), -1);
  EXPECT_EQ(connector->take_subprocess(), nullptr);
}

}  // namespace
}  // namespace nbdref::transport
