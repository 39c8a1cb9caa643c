// One connection to the server under test, as a stream of bytes with a
// deadline: every send and receive waits with poll(2) at most until the
// check's deadline, so a server that hangs produces a Timeout, never a hang.
// Everything that passes is written to the connection's transcript. When
// the server is a command started for this connection, the channel owns the
// child and notes in the transcript how it ended. Once TLS is started, every
// byte goes through the TLS session and the transcript shows the plaintext.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "probe/deadline.hpp"
#include "probe/target.hpp"
#include "probe/tls_session.hpp"
#include "probe/transcript.hpp"
#include "transport/subprocess.hpp"
#include "transport/unique_fd.hpp"

namespace nbdref::conform {

class ByteChannel {
 public:
  // Connects to `target` (starting its command, if it is one). Throws
  // ProbeError Connect when that fails and Timeout when it does not finish
  // by the deadline.
  static ByteChannel open(const Target& target, Deadline deadline,
                          std::shared_ptr<Transcript> transcript);

  // Adopts a connected stream socket (a socketpair end, a socket the
  // caller connected itself); `description` names the peer in the
  // transcript.
  static ByteChannel from_socket(transport::UniqueFd fd, const std::string& description,
                                 Deadline deadline, std::shared_ptr<Transcript> transcript);

  ByteChannel(ByteChannel&&) = default;
  ByteChannel& operator=(ByteChannel&&) = default;
  // Closes the connection; a command's exit (or death by a signal) is noted
  // in the transcript first.
  ~ByteChannel();

  Transcript& transcript() { return *transcript_; }
  const Deadline& deadline() const { return deadline_; }

  // Writes all of `bytes`, recorded as `description`. Throws ProbeError
  // Closed when the server has closed the connection, Timeout when it stops
  // reading.
  void send(std::span<const std::uint8_t> bytes, std::string description);

  // Exactly `n` bytes. `what` names them in errors ("option reply header").
  // The caller records them once it knows what they mean; bytes of an
  // incomplete read are recorded here. Throws ProbeError Closed or Timeout.
  std::vector<std::uint8_t> receive(std::size_t n, const std::string& what);

  // What happened while waiting up to `wait` (and never past the deadline)
  // for the server to close the connection; the wait also ends once 64 KiB
  // have arrived instead.
  struct CloseWait {
    bool closed = false;              // end of stream or reset seen
    bool close_notify = false;        // under TLS: the server sent close_notify first
    std::vector<std::uint8_t> bytes;  // whatever arrived first
  };
  CloseWait await_close(std::chrono::milliseconds wait);

  // Closes our end now (the peer sees end of stream, after close_notify
  // when TLS is up); later sends and receives fail.
  void close();
  // Shuts down our sending side only (after close_notify when TLS is up):
  // the server sees end of stream but can still send. Later sends fail.
  void half_close();
  // close(), then, for a server started for this connection, waits up to
  // `wait` (never past the deadline) for its process to end and notes in
  // the transcript how it ended; returns at once for a persistent server.
  void close_and_await_exit(std::chrono::milliseconds wait);

  // Starts a TLS client session on this connection (the server has just
  // acknowledged NBD_OPT_STARTTLS) and runs its handshake. Once TLS is
  // established it carries every send and receive; after a failed
  // handshake the connection is of no further use. Throws ProbeError
  // Connect when our credentials cannot be loaded, Timeout when the
  // deadline passes.
  TlsHandshake start_tls(const tls::TlsOptions& options, TlsVersions versions);
  // The established session, or null before TLS.
  const TlsSession* tls() const { return tls_.get(); }

 private:
  ByteChannel(transport::UniqueFd fd, std::unique_ptr<transport::Subprocess> child,
              std::shared_ptr<Transcript> transcript, Deadline deadline);

  // Waits for `events` on the socket until the deadline; false on timeout.
  bool wait_for(short events, const Deadline& until);

  // One attempt to move bytes, on the socket or through TLS.
  struct Transfer {
    enum class State { Moved, Wait, End, Failed };
    State state = State::Wait;
    std::size_t bytes = 0;      // Moved
    short wait_events = 0;      // Wait: what to poll for
    bool reset = false;         // End: a reset rather than an orderly close
    bool close_notify = false;  // End: TLS close_notify came first
    std::string error{};        // Failed
  };
  Transfer send_some(std::span<const std::uint8_t> bytes);
  Transfer receive_some(std::span<std::uint8_t> into);
  // Notes how the child ended once it has, waiting up to `wait`; true when
  // it was noted.
  bool note_child_exit(std::chrono::milliseconds wait);

  // Declared before fd_ so that the socket is closed first: a server on
  // stdin/stdout sees end of stream and exits before it would be signalled.
  std::unique_ptr<transport::Subprocess> child_;
  transport::UniqueFd fd_;
  std::unique_ptr<TlsSession> tls_;  // after start_tls; uses fd_
  std::shared_ptr<Transcript> transcript_;
  Deadline deadline_;
  bool child_exit_noted_ = false;
};

}  // namespace nbdref::conform
