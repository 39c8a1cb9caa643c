#include "server/channel.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

namespace nbdref::mock {
namespace {

bool is_socket(int fd) {
  struct stat st {};
  return fd >= 0 && ::fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

std::string errno_text(int e) {
  return std::strerror(e);
}

// Milliseconds for poll() until `deadline`: -1 waits for ever.
int poll_timeout(Clock::time_point deadline) {
  if (deadline == Clock::time_point::max()) return -1;
  const auto now = Clock::now();
  if (now >= deadline) return 0;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count();
  return static_cast<int>(std::min<long long>(ms, INT_MAX));
}

// Waits until `fd` is ready for `events`: 1 ready (or hung up / in error,
// which the next read or write reports), 0 deadline passed, -1 with errno.
int wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int r = ::poll(&p, 1, poll_timeout(deadline));
    if (r > 0) {
      if (p.revents & POLLNVAL) {
        errno = EBADF;
        return -1;
      }
      return 1;
    }
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (deadline != Clock::time_point::max() && Clock::now() >= deadline) return 0;
  }
}

// write() to something that is not a socket, with SIGPIPE blocked in this
// thread; a SIGPIPE the write raised is taken back out of the pending set,
// so no signal disposition of the process has to change.
ssize_t write_without_sigpipe(int fd, const std::uint8_t* data, std::size_t size) {
  sigset_t pipe_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  sigset_t pending;
  sigemptyset(&pending);
  sigpending(&pending);
  const bool was_pending = sigismember(&pending, SIGPIPE) == 1;
  sigset_t old;
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  const ssize_t n = ::write(fd, data, size);
  const int saved = errno;
  if (n < 0 && saved == EPIPE && !was_pending) {
    const timespec zero{0, 0};
    while (sigtimedwait(&pipe_set, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = saved;
  return n;
}

// Puts /dev/null in place of `fd`: whoever holds the other end of what `fd`
// was sees it closed, and the number stays valid for its owner.
void replace_with_dev_null(int fd) {
  const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd < 0) return;
  while (::dup2(null_fd, fd) < 0 && errno == EINTR) {
  }
  ::close(null_fd);
}

}  // namespace

FdChannel::FdChannel(int fd) : FdChannel(fd, fd, true) {}

FdChannel::FdChannel(int read_fd, int write_fd, bool owned)
    : read_fd_(read_fd),
      write_fd_(write_fd),
      owned_(owned),
      write_is_socket_(is_socket(write_fd)),
      read_is_socket_(read_fd == write_fd ? write_is_socket_ : is_socket(read_fd)) {}

FdChannel::~FdChannel() {
  if (owned_) close();
}

ReadResult FdChannel::read_some(std::span<std::uint8_t> out, Clock::time_point deadline) {
  ReadResult r;
  if (closed_ || read_fd_ < 0) {
    r.status = ReadResult::Status::Error;
    r.errnum = EBADF;
    r.error = "the connection is closed";
    return r;
  }
  if (out.empty()) return r;
  for (;;) {
    const int ready = wait_for(read_fd_, POLLIN, deadline);
    if (ready == 0) {
      r.status = ReadResult::Status::Timeout;
      return r;
    }
    if (ready > 0) {
      const ssize_t n = ::read(read_fd_, out.data(), out.size());
      if (n > 0) {
        r.count = static_cast<std::size_t>(n);
        return r;
      }
      if (n == 0) {
        r.status = ReadResult::Status::Eof;
        return r;
      }
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
    }
    r.status = ReadResult::Status::Error;
    r.errnum = errno;
    r.error = errno_text(errno);
    return r;
  }
}

bool FdChannel::write_all(std::span<const std::uint8_t> data, std::string& error) {
  if (closed_ || write_fd_ < 0) {
    error = "the connection is closed";
    return false;
  }
  if (write_shut_) {
    error = "the server's side of the connection was shut down";
    return false;
  }
  std::size_t done = 0;
  while (done < data.size()) {
    const std::uint8_t* p = data.data() + done;
    const std::size_t left = data.size() - done;
    const ssize_t n = write_is_socket_ ? ::send(write_fd_, p, left, MSG_NOSIGNAL)
                                       : write_without_sigpipe(write_fd_, p, left);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (wait_for(write_fd_, POLLOUT, Clock::time_point::max()) >= 0) continue;
    }
    error = errno_text(n < 0 ? errno : EIO);
    return false;
  }
  return true;
}

void FdChannel::shutdown_write() {
  if (closed_ || write_shut_ || write_fd_ < 0) return;
  write_shut_ = true;
  if (write_is_socket_) {
    ::shutdown(write_fd_, SHUT_WR);
    return;
  }
  // A pipe ends when its write end closes; one descriptor that both reads
  // and writes, but is no socket (a terminal), cannot half-close.
  if (write_fd_ == read_fd_) return;
  if (owned_) {
    ::close(write_fd_);
    write_fd_ = -1;
  } else {
    replace_with_dev_null(write_fd_);
  }
}

void FdChannel::close() {
  if (closed_) return;
  closed_ = true;
  if (owned_) {
    if (write_fd_ >= 0 && write_fd_ != read_fd_) ::close(write_fd_);
    if (read_fd_ >= 0) ::close(read_fd_);
  } else {
    if (read_is_socket_ && read_fd_ >= 0) ::shutdown(read_fd_, SHUT_RDWR);
    if (write_is_socket_ && write_fd_ >= 0 && write_fd_ != read_fd_) {
      ::shutdown(write_fd_, SHUT_RDWR);
    }
    if (!write_is_socket_ && write_fd_ >= 0 && !write_shut_) replace_with_dev_null(write_fd_);
    if (!read_is_socket_ && read_fd_ >= 0 && read_fd_ != write_fd_) replace_with_dev_null(read_fd_);
  }
  read_fd_ = -1;
  write_fd_ = -1;
}

}  // namespace nbdref::mock
