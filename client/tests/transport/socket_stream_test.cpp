#include "transport/socket_stream.hpp"

#include <fcntl.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <csignal>
#include <vector>

#include "test_sockets.hpp"

namespace nbdref::transport {
namespace {

using test::read_exactly;
using test::recv_exactly;
using test::segment;

// Our stream on one end of a socket pair; the test plays the peer on the other.
struct StreamPair {
  StreamPair() {
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    stream = make_socket_stream(UniqueFd(fds[0]));
    peer.reset(fds[1]);
  }
  std::unique_ptr<Stream> stream;
  UniqueFd peer;
};

TEST(SocketStream, SwitchesTheSocketToNonBlocking) {
  StreamPair p;
  EXPECT_TRUE(fcntl(p.stream->fd(), F_GETFL) & O_NONBLOCK);
}

TEST(SocketStream, ReadWouldBlockWhenNothingHasArrived) {
  StreamPair p;
  std::uint8_t buffer[16];
  EXPECT_EQ(p.stream->read(buffer).status, IoStatus::WouldBlock);
}

TEST(SocketStream, GatherWriteSendsTheSegmentsInOrder) {
  StreamPair p;
  const std::string a = "NBD", b = "MAGIC", c = "-IHAVEOPT";
  const iovec segments[] = {segment(a), segment(b), segment(c)};
  const IoResult r = p.stream->write(segments);
  ASSERT_EQ(r.status, IoStatus::Done);
  EXPECT_EQ(r.bytes, 17u);
  EXPECT_EQ(recv_exactly(p.peer.get(), 17), "NBDMAGIC-IHAVEOPT");
}

TEST(SocketStream, SmallReadsCollectEverythingThePeerSent) {
  StreamPair p;
  const std::string sent = "0123456789abcdef";
  ASSERT_EQ(send(p.peer.get(), sent.data(), sent.size(), 0), static_cast<ssize_t>(sent.size()));
  EXPECT_EQ(read_exactly(*p.stream, sent.size(), 3), sent);
}

TEST(SocketStream, ReadReportsEofWhenThePeerCloses) {
  StreamPair p;
  p.peer.reset();
  std::uint8_t buffer[16];
  EXPECT_EQ(p.stream->read(buffer).status, IoStatus::Eof);
}

TEST(SocketStream, EmptyReadIsDoneWithNothingRatherThanEof) {
  StreamPair p;
  const IoResult r = p.stream->read({});
  EXPECT_EQ(r.status, IoStatus::Done);
  EXPECT_EQ(r.bytes, 0u);
}

TEST(SocketStream, WriteToAClosedPeerFailsWithEpipeAndRaisesNoSigpipe) {
  // Only meaningful if SIGPIPE would kill us: make sure nothing ignores it.
  struct sigaction current {};
  ASSERT_EQ(sigaction(SIGPIPE, nullptr, &current), 0);
  ASSERT_EQ(current.sa_handler, SIG_DFL);

  StreamPair p;
  p.peer.reset();
  const std::string data = "request";
  const iovec segments[] = {segment(data)};
  const IoResult r = p.stream->write(segments);
  EXPECT_EQ(r.status, IoStatus::Failed);
  EXPECT_EQ(r.errnum, EPIPE);
}

TEST(SocketStream, WriteTakesWhatFitsThenWouldBlock) {
  StreamPair p;
  // Far more than a socket pair buffers, so the peer never reading fills it.
  const std::vector<char> big(16 << 20, 'x');
  const iovec segments[] = {{const_cast<char*>(big.data()), big.size()}};
  const IoResult first = p.stream->write(segments);
  ASSERT_EQ(first.status, IoStatus::Done);
  EXPECT_GT(first.bytes, 0u);
  EXPECT_LT(first.bytes, big.size());
  IoResult next = first;
  while (next.status == IoStatus::Done) next = p.stream->write(segments);
  EXPECT_EQ(next.status, IoStatus::WouldBlock);
}

TEST(SocketStream, ShutdownEndsOnlyOurDirection) {
  StreamPair p;
  p.stream->shutdown();
  char byte;
  ASSERT_TRUE(test::wait_for(p.peer.get(), POLLIN));
  EXPECT_EQ(recv(p.peer.get(), &byte, 1, 0), 0);  // the peer sees end of stream
  ASSERT_EQ(send(p.peer.get(), "z", 1, 0), 1);    // and can still answer
  EXPECT_EQ(read_exactly(*p.stream, 1), "z");
}

}  // namespace
}  // namespace nbdref::transport
