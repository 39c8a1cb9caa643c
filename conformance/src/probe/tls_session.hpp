// The probe's TLS client session over a connection's socket, after the
// server has acknowledged NBD_OPT_STARTTLS. Credentials come from the
// client's TLS library (tls::Credentials: a certificates directory or a PSK
// file); the session itself is driven with GnuTLS directly, because a
// conformance check needs what a client hides: the TLS versions offered are
// chosen per check (S-TLS-028..030), and the end of the server's stream says
// whether it came with close_notify or as a bare close (S-TX-006).
// Every wait is bounded by a Deadline; nothing blocks past it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "probe/deadline.hpp"
#include "tls/credentials.hpp"

struct gnutls_session_int;  // GnuTLS's session, declared as gnutls.h does

namespace nbdref::conform {

// Which protocol versions the client offers in its ClientHello.
enum class TlsVersions {
  Current,  // TLS 1.3 and 1.2: what every check uses unless it tests versions
  Only12,   // TLS 1.2 alone
  Only13,   // TLS 1.3 alone
  Legacy,   // TLS 1.1 and 1.0 alone: versions a server should not enable
};

// "TLS 1.2 and 1.3", "TLS 1.2 only", ...
std::string describe(TlsVersions versions);

// How a TLS handshake ended.
struct TlsHandshake {
  enum class Ending {
    Established,
    ServerAlert,   // the server sent a fatal alert (named in `why`)
    ServerClosed,  // the server closed or reset the connection
    Failed,        // anything else: bad bytes from the server, a certificate
                   // that does not verify, no common cipher ...
  };
  Ending ending = Ending::Failed;
  std::string why;  // empty when established

  bool established() const { return ending == Ending::Established; }
};

class TlsSession {
 public:
  // How a read ended.
  enum class ReadStatus {
    Data,         // `bytes` bytes arrived
    WouldBlock,   // nothing yet: poll the socket (wants_write() says for what)
    CloseNotify,  // the server ended the session with close_notify
    Closed,       // the socket ended (or was reset) without close_notify
    Failed,       // any other TLS error: `error` says which
  };
  struct ReadResult {
    ReadStatus status = ReadStatus::WouldBlock;
    std::size_t bytes = 0;
    std::string error{};
  };
  enum class WriteStatus { Done, WouldBlock, Closed, Failed };
  struct WriteResult {
    WriteStatus status = WriteStatus::WouldBlock;
    std::size_t bytes = 0;
    std::string error{};
  };

  // Loads the credentials `options` names and sets a client session up on
  // the connected non-blocking `socket` (not owned), offering `versions`.
  // Throws ProbeError Connect when the credentials cannot be loaded or the
  // session cannot be set up: a problem on our side, not the server's.
  TlsSession(int socket, const tls::TlsOptions& options, TlsVersions versions);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // Runs the handshake to its end. Throws ProbeError Timeout when the
  // deadline passes first.
  TlsHandshake handshake(const Deadline& deadline);
  bool established() const { return established_; }
  // "(TLS1.3)-(ECDHE-SECP256R1)-(ECDSA-SECP256R1-SHA256)-(AES-256-GCM)".
  std::string describe_session() const;
  // Credentials used, for the transcript ("X.509, CA from ...").
  const std::string& credentials_summary() const;

  ReadResult read(std::span<std::uint8_t> into);
  WriteResult write(std::span<const std::uint8_t> bytes);
  // After WouldBlock: whether GnuTLS waits to write (else to read).
  bool wants_write() const;
  // Decrypted bytes wait in GnuTLS's buffer: read before polling.
  bool has_buffered_input() const;
  // Sends close_notify once (best effort, bounded by `deadline`).
  void send_close_notify(const Deadline& deadline);

 private:
  std::shared_ptr<const tls::Credentials> credentials_;
  gnutls_session_int* session_ = nullptr;
  int socket_ = -1;
  bool established_ = false;
  bool close_notify_sent_ = false;
};

}  // namespace nbdref::conform
