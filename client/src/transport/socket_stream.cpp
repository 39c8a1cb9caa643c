#include "transport/socket_stream.hpp"

#include <fcntl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <climits>

namespace nbdref::transport {
namespace {

IoResult from_errno(int err) {
  if (err == EAGAIN || err == EWOULDBLOCK) return {IoStatus::WouldBlock};
  return {IoStatus::Failed, 0, err};
}

class SocketStream final : public Stream {
 public:
  explicit SocketStream(UniqueFd socket) : socket_(std::move(socket)) {
    // The handle's poll loop does all the waiting, so no call may block. F_GETFL
    // only fails on a bad descriptor, which the first read or write reports.
    const int flags = ::fcntl(socket_.get(), F_GETFL);
    if (flags != -1) ::fcntl(socket_.get(), F_SETFL, flags | O_NONBLOCK);
  }

  int fd() const override { return socket_.get(); }

  IoResult read(std::span<std::uint8_t> into) override {
    // recv of 0 bytes returns 0, which would read as end of stream.
    if (into.empty()) return {IoStatus::Done};
    for (;;) {
      const ssize_t n = ::recv(socket_.get(), into.data(), into.size(), 0);
      if (n > 0) return {IoStatus::Done, static_cast<std::size_t>(n)};
      if (n == 0) return {IoStatus::Eof};
      if (errno != EINTR) return from_errno(errno);
    }
  }

  IoResult write(std::span<const iovec> segments) override {
    msghdr message{};
    // sendmsg only reads the array; its C signature just lacks the const.
    message.msg_iov = const_cast<iovec*>(segments.data());
    // The kernel refuses longer arrays outright; sending the first IOV_MAX
    // segments is an ordinary partial write.
    message.msg_iovlen = std::min<std::size_t>(segments.size(), IOV_MAX);
    for (;;) {
      // MSG_NOSIGNAL: a vanished peer must be an error the handle reports,
      // not a signal that kills the application.
      const ssize_t n = ::sendmsg(socket_.get(), &message, MSG_NOSIGNAL);
      if (n >= 0) return {IoStatus::Done, static_cast<std::size_t>(n)};
      if (errno != EINTR) return from_errno(errno);
    }
  }

  void shutdown() override {
    // Failure only means the peer is already gone, which is where we are heading.
    ::shutdown(socket_.get(), SHUT_WR);
  }

 private:
  UniqueFd socket_;
};

}  // namespace

std::unique_ptr<Stream> make_socket_stream(UniqueFd connected_socket) {
  return std::make_unique<SocketStream>(std::move(connected_socket));
}

}  // namespace nbdref::transport
