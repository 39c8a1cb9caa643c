#include "probe/byte_channel.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "probe/probe_error.hpp"
#include "transport/connector.hpp"

namespace nbdref::conform {
namespace {

// Bytes await_close takes in before it stops waiting: enough to show what
// the server sent instead of closing.
constexpr std::size_t kCloseWaitKept = 64 * 1024;
// How long a closed connection's server process gets to exit before the
// transcript calls it still running (a command normally exits at once on
// end of stream; a socket-activated one may keep listening).
constexpr auto kChildExitWait = std::chrono::milliseconds(100);

std::unique_ptr<transport::Connector> make_connector(const Target& t) {
  switch (t.kind) {
    case Target::Kind::Unix:
      return transport::connect_unix(t.unix_path);
    case Target::Kind::Tcp:
      return transport::connect_tcp(t.host, t.port);
    case Target::Kind::Vsock:
      return transport::connect_vsock(t.vsock_cid, t.vsock_port);
    case Target::Kind::Command:
      return transport::connect_command(t.argv);
    case Target::Kind::SocketActivation:
      return transport::connect_systemd_socket_activation(t.argv);
  }
  return nullptr;
}

std::string errno_text(int err) {
  return std::strerror(err);
}

void make_non_blocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags == -1 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1) {
    const int err = errno;
    throw ProbeError(ProbeError::Kind::Io,
                     "cannot make the socket non-blocking: " + errno_text(err));
  }
}

bool is_reset(int err) {
  return err == ECONNRESET || err == EPIPE || err == ECONNABORTED;
}

}  // namespace

ByteChannel ByteChannel::open(const Target& target, Deadline deadline,
                              std::shared_ptr<Transcript> transcript) {
  auto connector = make_connector(target);
  for (;;) {
    const transport::ConnectProgress progress = connector->step();
    if (progress.state == transport::ConnectProgress::State::Connected) break;
    if (progress.state == transport::ConnectProgress::State::Failed) {
      transcript->note("cannot connect: " + progress.error.message);
      throw ProbeError(ProbeError::Kind::Connect,
                       "cannot connect to " + target.describe() + ": " + progress.error.message);
    }
    pollfd p{connector->fd(), POLLOUT, 0};
    const int r = ::poll(&p, 1, deadline.poll_timeout_ms());
    if (r == 0 || deadline.expired()) {
      transcript->note("connecting timed out");
      throw ProbeError(ProbeError::Kind::Timeout, "timed out connecting to " + target.describe());
    }
  }
  transport::UniqueFd fd = connector->take_socket();
  auto child = connector->take_subprocess();
  make_non_blocking(fd.get());
  if (target.kind == Target::Kind::Tcp) {
    // proto.md "Protocol phases": peers on TCP should turn Nagle's algorithm off.
    const int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  transcript->note("connected to " + target.describe());
  return ByteChannel(std::move(fd), std::move(child), std::move(transcript), deadline);
}

ByteChannel ByteChannel::from_socket(transport::UniqueFd fd, const std::string& description,
                                     Deadline deadline, std::shared_ptr<Transcript> transcript) {
  make_non_blocking(fd.get());
  transcript->note("connected to " + description);
  return ByteChannel(std::move(fd), nullptr, std::move(transcript), deadline);
}

ByteChannel::ByteChannel(transport::UniqueFd fd, std::unique_ptr<transport::Subprocess> child,
                         std::shared_ptr<Transcript> transcript, Deadline deadline)
    : child_(std::move(child)),
      fd_(std::move(fd)),
      transcript_(std::move(transcript)),
      deadline_(deadline) {}

ByteChannel::~ByteChannel() {
  fd_.reset();
  if (child_ && !child_exit_noted_) note_child_exit(kChildExitWait);
}

void ByteChannel::close() {
  if (fd_) {
    if (tls_) tls_->send_close_notify(deadline_);
    transcript_->note(tls_ ? "client sent close_notify and closed the connection"
                           : "client closed the connection");
  }
  fd_.reset();
}

void ByteChannel::half_close() {
  if (!fd_) return;
  if (tls_) tls_->send_close_notify(deadline_);
  ::shutdown(fd_.get(), SHUT_WR);
  transcript_->note(tls_ ? "client sent close_notify and shut down its sending side"
                         : "client shut down its sending side");
}

void ByteChannel::close_and_await_exit(std::chrono::milliseconds wait) {
  close();
  if (!child_ || child_exit_noted_) return;
  const std::chrono::milliseconds left(deadline_.capped(wait).poll_timeout_ms());
  child_exit_noted_ = note_child_exit(left);
}

TlsHandshake ByteChannel::start_tls(const tls::TlsOptions& options, TlsVersions versions) {
  if (!fd_) throw ProbeError(ProbeError::Kind::Io, "starting TLS on a closed connection");
  auto session = std::make_unique<TlsSession>(fd_.get(), options, versions);
  transcript_->note("TLS handshake (" + describe(versions) + ", " + session->credentials_summary() +
                    ")");
  TlsHandshake result = session->handshake(deadline_);
  if (!result.established()) {
    transcript_->note("TLS handshake failed: " + result.why);
    return result;
  }
  transcript_->note("TLS established: " + session->describe_session());
  tls_ = std::move(session);
  return result;
}

bool ByteChannel::note_child_exit(std::chrono::milliseconds wait) {
  const auto until = std::chrono::steady_clock::now() + wait;
  for (;;) {
    siginfo_t info{};
    // WNOWAIT: look without reaping; the Subprocess reaps it.
    const int r =
        ::waitid(P_PID, static_cast<id_t>(child_->pid()), &info, WEXITED | WNOHANG | WNOWAIT);
    if (r == 0 && info.si_pid != 0) {
      if (info.si_code == CLD_EXITED) {
        transcript_->server_ended(
            "server process exited with status " + std::to_string(info.si_status), false);
      } else {
        transcript_->server_ended("server process was killed by signal " +
                                      std::to_string(info.si_status) + " (" +
                                      strsignal(info.si_status) + ")",
                                  true);
      }
      return true;
    }
    if (r != 0 || std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

bool ByteChannel::wait_for(short events, const Deadline& until) {
  for (;;) {
    pollfd p{fd_.get(), events, 0};
    const int r = ::poll(&p, 1, until.poll_timeout_ms());
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) {
      const int err = errno;
      throw ProbeError(ProbeError::Kind::Io, "poll failed: " + errno_text(err));
    }
  }
}

ByteChannel::Transfer ByteChannel::send_some(std::span<const std::uint8_t> bytes) {
  if (tls_) {
    const TlsSession::WriteResult w = tls_->write(bytes);
    switch (w.status) {
      case TlsSession::WriteStatus::Done:
        return {Transfer::State::Moved, w.bytes};
      case TlsSession::WriteStatus::WouldBlock:
        return {Transfer::State::Wait, 0,
                static_cast<short>(tls_->wants_write() ? POLLOUT : POLLIN)};
      case TlsSession::WriteStatus::Closed:
        return {Transfer::State::End, 0, 0, true};
      case TlsSession::WriteStatus::Failed:
        return {Transfer::State::Failed, 0, 0, false, false, w.error};
    }
  }
  for (;;) {
    const ssize_t n = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n >= 0) return {Transfer::State::Moved, static_cast<std::size_t>(n)};
    const int err = errno;
    if (err == EINTR) continue;
    if (err == EAGAIN || err == EWOULDBLOCK) return {Transfer::State::Wait, 0, POLLOUT};
    if (is_reset(err)) return {Transfer::State::End, 0, 0, true};
    return {Transfer::State::Failed, 0, 0, false, false, errno_text(err)};
  }
}

ByteChannel::Transfer ByteChannel::receive_some(std::span<std::uint8_t> into) {
  if (tls_) {
    const TlsSession::ReadResult r = tls_->read(into);
    switch (r.status) {
      case TlsSession::ReadStatus::Data:
        return {Transfer::State::Moved, r.bytes};
      case TlsSession::ReadStatus::WouldBlock:
        return {Transfer::State::Wait, 0,
                static_cast<short>(tls_->wants_write() ? POLLOUT : POLLIN)};
      case TlsSession::ReadStatus::CloseNotify:
        return {Transfer::State::End, 0, 0, false, true};
      case TlsSession::ReadStatus::Closed:
        return {Transfer::State::End};
      case TlsSession::ReadStatus::Failed:
        return {Transfer::State::Failed, 0, 0, false, false, r.error};
    }
  }
  for (;;) {
    const ssize_t n = ::recv(fd_.get(), into.data(), into.size(), 0);
    if (n > 0) return {Transfer::State::Moved, static_cast<std::size_t>(n)};
    if (n == 0) return {Transfer::State::End};
    const int err = errno;
    if (err == EINTR) continue;
    if (err == EAGAIN || err == EWOULDBLOCK) return {Transfer::State::Wait, 0, POLLIN};
    if (is_reset(err)) return {Transfer::State::End, 0, 0, true};
    return {Transfer::State::Failed, 0, 0, false, false, errno_text(err)};
  }
}

void ByteChannel::send(std::span<const std::uint8_t> bytes, std::string description) {
  if (!fd_) throw ProbeError(ProbeError::Kind::Io, "sending on a closed connection");
  transcript_->sent(description, bytes);
  std::size_t done = 0;
  while (done < bytes.size()) {
    const Transfer t = send_some(bytes.subspan(done));
    if (t.state == Transfer::State::Moved) {
      done += t.bytes;
      continue;
    }
    const std::string progress =
        " (" + std::to_string(done) + " of " + std::to_string(bytes.size()) + " bytes sent)";
    if (t.state == Transfer::State::Wait) {
      if (wait_for(t.wait_events, deadline_)) continue;
      transcript_->note("timed out sending" + progress);
      throw ProbeError(
          ProbeError::Kind::Timeout,
          "timed out: the server stopped reading while we sent " + description + progress);
    }
    if (t.state == Transfer::State::End) {
      transcript_->note("server closed the connection" + progress);
      throw ProbeError(ProbeError::Kind::Closed,
                       "the server closed the connection while we sent " + description + progress);
    }
    throw ProbeError(ProbeError::Kind::Io, "sending " + description + ": " + t.error);
  }
}

std::vector<std::uint8_t> ByteChannel::receive(std::size_t n, const std::string& what) {
  if (!fd_) throw ProbeError(ProbeError::Kind::Io, "receiving on a closed connection");
  std::vector<std::uint8_t> buf(n);
  std::size_t got = 0;
  auto incomplete = [&](const std::string& why) {
    if (got > 0) {
      transcript_->received("incomplete " + what, std::span<const std::uint8_t>(buf.data(), got));
    }
    transcript_->note(why);
    return " while waiting for " + what + " (" + std::to_string(got) + " of " + std::to_string(n) +
           " bytes received)";
  };
  while (got < n) {
    const Transfer t = receive_some(std::span<std::uint8_t>(buf).subspan(got));
    if (t.state == Transfer::State::Moved) {
      got += t.bytes;
      continue;
    }
    if (t.state == Transfer::State::Wait) {
      if (wait_for(t.wait_events, deadline_)) continue;
      throw ProbeError(ProbeError::Kind::Timeout,
                       "timed out" + incomplete("timed out (the check's deadline passed)"));
    }
    if (t.state == Transfer::State::End) {
      const std::string how = t.reset          ? "the server reset the connection"
                              : t.close_notify ? "the server sent close_notify and closed"
                                               : "the server closed the connection";
      const std::string note = t.reset          ? "server reset the connection"
                               : t.close_notify ? "server sent close_notify and closed"
                                                : "server closed the connection";
      throw ProbeError(ProbeError::Kind::Closed, how + incomplete(note));
    }
    throw ProbeError(ProbeError::Kind::Io, "receiving " + what + ": " + t.error);
  }
  return buf;
}

ByteChannel::CloseWait ByteChannel::await_close(std::chrono::milliseconds wait) {
  CloseWait result;
  if (!fd_) {
    result.closed = true;
    return result;
  }
  const Deadline until = deadline_.capped(wait);
  std::uint8_t chunk[4096];
  for (;;) {
    const Transfer t = receive_some(chunk);
    if (t.state == Transfer::State::Moved) {
      const std::span<const std::uint8_t> got(chunk, t.bytes);
      transcript_->received("bytes received while waiting for the server to close the connection",
                            got);
      const std::size_t keep = std::min(kCloseWaitKept - result.bytes.size(), got.size());
      result.bytes.insert(result.bytes.end(), got.begin(), got.begin() + keep);
      // A server that keeps sending has answered the question.
      if (result.bytes.size() == kCloseWaitKept) break;
      continue;
    }
    if (t.state == Transfer::State::End) {
      result.closed = true;
      result.close_notify = t.close_notify;
      break;
    }
    if (t.state == Transfer::State::Failed) {
      // Under TLS a fatal alert ends the session as surely as a close.
      if (!tls_) throw ProbeError(ProbeError::Kind::Io, "receiving: " + t.error);
      transcript_->note(t.error);
      result.closed = true;
      break;
    }
    if (!wait_for(t.wait_events, until)) break;
  }
  // A TLS session ended by close_notify counts as closed, whether or not
  // the socket's end of stream has arrived yet.
  transcript_->note(result.close_notify ? "server sent close_notify"
                    : result.closed     ? "server closed the connection"
                                        : "connection still open after waiting " +
                                          std::to_string(wait.count()) + " ms");
  return result;
}

}  // namespace nbdref::conform
