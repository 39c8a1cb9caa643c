// A TLS client session over a connected plain Stream, itself a Stream: the
// handle swaps it in once the server has agreed to NBD_OPT_STARTTLS, drives
// the handshake from its poll loop, and then reads and writes through it as
// through the socket. Nothing blocks: GnuTLS's "try again" becomes
// WouldBlock, with the direction it waits for.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "error/error.hpp"
#include "tls/credentials.hpp"
#include "transport/stream.hpp"

struct gnutls_session_int;  // GnuTLS's session, declared as gnutls.h does

namespace nbdref::tls {

struct HandshakeProgress {
  enum class State { Done, WouldBlock, Failed };
  State state = State::WouldBlock;
  bool wants_write = false;  // WouldBlock: wait for POLLOUT, else for POLLIN
  Error error;               // Failed: why, for a person (errno as described at handshake())
};

class TlsStream final : public transport::Stream {
 public:
  using IoStatus = transport::IoStatus;
  using IoResult = transport::IoResult;

  // A client session over `plain` with `credentials` (and the verification
  // and host name they carry). `already_received` are bytes the caller read
  // from `plain` beyond the server's NBD_REP_ACK: the start of the server's
  // side of the handshake, read before anything else. Takes `plain` on
  // success; fails (leaving it) only when GnuTLS cannot set the session up.
  static Result<std::unique_ptr<TlsStream>> start(std::unique_ptr<transport::Stream>& plain,
                                                  std::shared_ptr<const Credentials> credentials,
                                                  std::vector<std::uint8_t> already_received);
  ~TlsStream() override;
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  // Carries the handshake on as far as it can without waiting. Failed is
  // final: EACCES when the server's certificate did not verify or the server
  // refused our credentials (an authentication alert), ECONNRESET when the
  // server hung up, the socket's errno when it failed, EPROTO for anything
  // else (the server did not speak TLS, no common cipher ...).
  HandshakeProgress handshake();
  bool established() const { return established_; }
  // "TLS1.3 (ECDHE-SECP256R1)-(RSA-PSS-RSAE-SHA256)-(AES-256-GCM)", once established.
  std::string describe_session() const;

  int fd() const override { return plain_->fd(); }
  IoResult read(std::span<std::uint8_t> into) override;
  IoResult write(std::span<const iovec> segments) override;
  // Sends TLS close_notify (C-TX-004, C-HS-005) when the session is
  // established and healthy, then shuts the socket's sending side.
  void shutdown() override;
  bool needs_write_readiness() const override;
  bool has_buffered_input() const override;

 private:
  TlsStream(std::unique_ptr<transport::Stream> plain,
            std::shared_ptr<const Credentials> credentials,
            std::vector<std::uint8_t> already_received);

  // GnuTLS's transport callbacks.
  static ssize_t pull(void* self, void* data, std::size_t size);
  static ssize_t push(void* self, const iovec* segments, int count);
  // What a plain read or write result means to GnuTLS: a byte count, or -1
  // with the transport errno set (EAGAIN when nothing can move now).
  ssize_t to_gnutls(const transport::IoResult& r);

  Result<void> init();
  Error handshake_error(int code) const;
  IoResult failed(int code);
  IoResult alert_failure() const;

  std::unique_ptr<transport::Stream> plain_;
  std::shared_ptr<const Credentials> credentials_;
  // Bytes read from `plain_` for GnuTLS, not yet taken by it: read ahead in
  // large pieces (and, first, what came with the server's NBD_REP_ACK).
  static constexpr std::size_t INBOUND_CAPACITY = 64 * 1024;
  std::vector<std::uint8_t> inbound_;
  std::size_t inbound_begin_ = 0;
  std::size_t inbound_end_ = 0;
  gnutls_session_int* session_ = nullptr;
  bool established_ = false;
  bool broken_ = false;      // a fatal error: no close_notify, nothing more
  bool peer_eof_ = false;    // the socket reached end of stream
  int transport_errno_ = 0;  // the socket failed with this
  bool bye_sent_ = false;
  // Bytes GnuTLS has taken into a record it could not finish sending: the
  // next write flushes them before anything else (see write()).
  std::size_t pending_record_ = 0;
  bool read_wants_write_ = false;
  std::vector<std::uint8_t> staging_;  // small segments gathered into one record
};

}  // namespace nbdref::tls
