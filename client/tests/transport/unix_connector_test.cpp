#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>

#include "test_sockets.hpp"
#include "transport/connector.hpp"
#include "transport/socket_stream.hpp"

namespace nbdref::transport {
namespace {

using State = ConnectProgress::State;
using test::accept_within;
using test::drive;
using test::listen_unix;
using test::read_exactly;
using test::recv_exactly;
using test::segment;

// Each test gets its own directory, removed with whatever socket it holds.
class UnixConnect : public ::testing::Test {
 protected:
  void SetUp() override {
    char name[] = "/tmp/nbdref-transport-XXXXXX";
    ASSERT_NE(mkdtemp(name), nullptr) << strerror(errno);
    dir_ = name;
  }
  void TearDown() override {
    if (!socket_path_.empty()) unlink(socket_path_.c_str());
    if (!dir_.empty()) rmdir(dir_.c_str());
  }
  std::string socket_path() { return socket_path_ = dir_ + "/sock"; }

  std::string dir_;
  std::string socket_path_;
};

// A unique abstract name, so that parallel test runs do not collide.
std::string abstract_name(const char* purpose) {
  return std::string(1, '\0') + "nbdref-transport-" + purpose + "-" + std::to_string(getpid());
}

TEST_F(UnixConnect, BytesFlowBothWaysThroughTheStream) {
  const std::string path = socket_path();
  UniqueFd listener = listen_unix(path);
  auto connector = connect_unix(path);
  EXPECT_EQ(connector->fd(), -1);  // nothing happens before the first step
  const ConnectProgress progress = drive(*connector);
  ASSERT_EQ(progress.state, State::Connected) << progress.error.message;
  UniqueFd server = accept_within(listener.get());
  ASSERT_TRUE(server);
  auto stream = make_socket_stream(connector->take_socket());
  EXPECT_EQ(connector->fd(), -1);

  const std::string a = "one ", b = "two ", c = "three";
  const iovec segments[] = {segment(a), segment(b), segment(c)};
  const IoResult written = stream->write(segments);
  ASSERT_EQ(written.status, IoStatus::Done);
  EXPECT_EQ(written.bytes, 13u);
  EXPECT_EQ(recv_exactly(server.get(), 13), "one two three");

  const std::string reply = "the server answers";
  ASSERT_EQ(send(server.get(), reply.data(), reply.size(), 0), static_cast<ssize_t>(reply.size()));
  EXPECT_EQ(read_exactly(*stream, reply.size(), 5), reply);

  server.reset();
  std::uint8_t byte[1];
  ASSERT_TRUE(test::wait_for(stream->fd(), POLLIN));
  EXPECT_EQ(stream->read(byte).status, IoStatus::Eof);
}

TEST_F(UnixConnect, ConnectsToAnAbstractSocket) {
  const std::string name = abstract_name("abstract");
  UniqueFd listener = listen_unix(name);
  auto connector = connect_unix(name);
  const ConnectProgress progress = drive(*connector);
  ASSERT_EQ(progress.state, State::Connected) << progress.error.message;
  UniqueFd server = accept_within(listener.get());
  ASSERT_TRUE(server);
  auto stream = make_socket_stream(connector->take_socket());
  ASSERT_EQ(send(server.get(), "hi", 2, 0), 2);
  EXPECT_EQ(read_exactly(*stream, 2), "hi");
}

TEST_F(UnixConnect, AbstractNameIsShownWithAnAtSign) {
  EXPECT_EQ(connect_unix(std::string("\0name", 5))->describe(), "unix:@name");
}

TEST_F(UnixConnect, MissingPathFailsWithEnoentNamingThePath) {
  const std::string path = dir_ + "/absent";
  auto connector = connect_unix(path);
  EXPECT_EQ(connector->describe(), "unix:" + path);
  const ConnectProgress progress = connector->step();
  ASSERT_EQ(progress.state, State::Failed);
  EXPECT_EQ(progress.error.errnum, ENOENT);
  EXPECT_NE(progress.error.message.find(path), std::string::npos) << progress.error.message;
  EXPECT_EQ(connector->fd(), -1);
  // The outcome stays put.
  EXPECT_EQ(connector->step().error.errnum, ENOENT);
}

TEST_F(UnixConnect, PathLongerThanTheAddressFailsWithEnametoolong) {
  // sun_path holds 108 bytes, the last of them the terminating NUL.
  const std::string fits = dir_ + "/" + std::string(107 - dir_.size() - 1, 'f');
  ASSERT_EQ(fits.size(), 107u);
  EXPECT_EQ(connect_unix(fits)->step().error.errnum, ENOENT);  // tried, not rejected

  const std::string too_long = fits + "g";
  const ConnectProgress progress = connect_unix(too_long)->step();
  ASSERT_EQ(progress.state, State::Failed);
  EXPECT_EQ(progress.error.errnum, ENAMETOOLONG);
  EXPECT_NE(progress.error.message.find(too_long), std::string::npos) << progress.error.message;
}

TEST_F(UnixConnect, AbstractNameMayFillTheWholeAddress) {
  // No terminator: all 108 bytes are the name. Nobody listens there.
  const std::string fits = abstract_name("full") + std::string(108, 'a');
  EXPECT_EQ(connect_unix(fits.substr(0, 108))->step().error.errnum, ECONNREFUSED);
  EXPECT_EQ(connect_unix(fits.substr(0, 109))->step().error.errnum, ENAMETOOLONG);
}

TEST_F(UnixConnect, PathContainingANulByteIsRejected) {
  const std::string path = dir_ + std::string("/a\0b", 4);
  const ConnectProgress progress = connect_unix(path)->step();
  ASSERT_EQ(progress.state, State::Failed);
  EXPECT_EQ(progress.error.errnum, EINVAL);
}

TEST_F(UnixConnect, EmptyPathIsRejected) {
  EXPECT_EQ(connect_unix("")->step().error.errnum, EINVAL);
}

TEST_F(UnixConnect, HasNoSubprocess) {
  EXPECT_EQ(connect_unix(dir_ + "/absent")->take_subprocess(), nullptr);
}

}  // namespace
}  // namespace nbdref::transport
