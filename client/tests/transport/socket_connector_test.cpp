#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "test_sockets.hpp"
#include "transport/connector.hpp"
#include "transport/socket_stream.hpp"

namespace nbdref::transport {
namespace {

using State = ConnectProgress::State;

bool is_open(int fd) {
  return fcntl(fd, F_GETFD) != -1;
}

TEST(SocketConnect, AdoptsOneEndOfASocketPair) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  UniqueFd peer(fds[1]);
  auto connector = connect_socket(fds[0]);
  EXPECT_EQ(connector->describe(), "socket: fd " + std::to_string(fds[0]));
  const ConnectProgress progress = connector->step();
  ASSERT_EQ(progress.state, State::Connected) << progress.error.message;
  auto stream = make_socket_stream(connector->take_socket());
  EXPECT_EQ(stream->fd(), fds[0]);
  ASSERT_EQ(send(peer.get(), "hello", 5, 0), 5);
  EXPECT_EQ(test::read_exactly(*stream, 5), "hello");
}

TEST(SocketConnect, PipeIsRejectedWithEnotsockAndClosed) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  UniqueFd write_end(fds[1]);
  auto connector = connect_socket(fds[0]);
  const ConnectProgress progress = connector->step();
  ASSERT_EQ(progress.state, State::Failed);
  EXPECT_EQ(progress.error.errnum, ENOTSOCK);
  EXPECT_NE(progress.error.message.find("fd " + std::to_string(fds[0])), std::string::npos)
      << progress.error.message;
  EXPECT_EQ(connector->fd(), -1);
  EXPECT_FALSE(connector->take_socket());
  EXPECT_FALSE(is_open(fds[0]));  // it was ours to close
}

TEST(SocketConnect, DatagramSocketIsRejectedWithEinval) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, fds), 0);
  UniqueFd peer(fds[1]);
  const ConnectProgress progress = connect_socket(fds[0])->step();
  ASSERT_EQ(progress.state, State::Failed);
  EXPECT_EQ(progress.error.errnum, EINVAL);
}

TEST(SocketConnect, InvalidDescriptorFailsWithEbadf) {
  const ConnectProgress progress = connect_socket(-1)->step();
  ASSERT_EQ(progress.state, State::Failed);
  EXPECT_EQ(progress.error.errnum, EBADF);
}

}  // namespace
}  // namespace nbdref::transport
