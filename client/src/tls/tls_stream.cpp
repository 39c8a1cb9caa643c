#include "tls/tls_stream.hpp"

#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace nbdref::tls {
namespace {

// C-TLS-015, C-TLS-016, C-TLS-017 (proto.md "TLS versions"): TLS 1.2 and
// 1.3, nothing older, whatever the system's defaults allow.
constexpr const char* CERTIFICATE_PRIORITY = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2";
// The same with the pre-shared-key exchanges, which NORMAL leaves out.
constexpr const char* PSK_PRIORITY =
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:+ECDHE-PSK:+DHE-PSK:+PSK";

// The largest plaintext a TLS record carries: what one gnutls_record_send
// sends at most.
constexpr std::size_t MAX_RECORD_PAYLOAD = 16384;

// Server name indication takes DNS names only, never address literals.
bool is_address_literal(const std::string& host) {
  unsigned char buffer[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

// Alerts by which a server says it does not accept who we are (or that
// what we proved did not check out).
bool is_authentication_alert(gnutls_alert_description_t alert) {
  switch (alert) {
    case GNUTLS_A_BAD_RECORD_MAC:
    case GNUTLS_A_BAD_CERTIFICATE:
    case GNUTLS_A_UNSUPPORTED_CERTIFICATE:
    case GNUTLS_A_CERTIFICATE_REVOKED:
    case GNUTLS_A_CERTIFICATE_EXPIRED:
    case GNUTLS_A_CERTIFICATE_UNKNOWN:
    case GNUTLS_A_UNKNOWN_CA:
    case GNUTLS_A_ACCESS_DENIED:
    case GNUTLS_A_DECRYPT_ERROR:
    case GNUTLS_A_UNKNOWN_PSK_IDENTITY:
    case GNUTLS_A_CERTIFICATE_REQUIRED:
      return true;
    default:
      return false;
  }
}

}  // namespace

Result<std::unique_ptr<TlsStream>> TlsStream::start(std::unique_ptr<transport::Stream>& plain,
                                                    std::shared_ptr<const Credentials> credentials,
                                                    std::vector<std::uint8_t> already_received) {
  std::unique_ptr<TlsStream> s(
      new TlsStream(std::move(plain), std::move(credentials), std::move(already_received)));
  if (auto ok = s->init(); !ok) {
    plain = std::move(s->plain_);
    return tl::unexpected(ok.error());
  }
  return s;
}

Result<void> TlsStream::init() {
  const Credentials& c = *credentials_;
  const TlsOptions& options = c.options();
  gnutls_session_t session = nullptr;
  // GNUTLS_NONBLOCK: the handle's poll loop does all the waiting.
  if (int rc = gnutls_init(&session, GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL); rc < 0) {
    return failure(ENOMEM, std::string("cannot start a TLS session: ") + gnutls_strerror(rc));
  }
  session_ = session;
  const char* error_at = nullptr;
  const char* priority = c.uses_psk() ? PSK_PRIORITY : CERTIFICATE_PRIORITY;
  if (int rc = gnutls_priority_set_direct(session, priority, &error_at); rc < 0) {
    return failure(EINVAL,
                   std::string("GnuTLS refused the priority string: ") + gnutls_strerror(rc));
  }
  int rc = 0;
  if (c.uses_psk()) {
    rc = gnutls_credentials_set(session, GNUTLS_CRD_PSK, c.psk());
  } else {
    rc = gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, c.certificates());
    const std::string& host = options.host_name;
    if (rc >= 0 && !host.empty() && !is_address_literal(host)) {
      rc = gnutls_server_name_set(session, GNUTLS_NAME_DNS, host.data(), host.size());
    }
    if (rc >= 0 && options.verify_peer) {
      // The chain must lead to a trusted CA and, when the name the server is
      // known by is known, the certificate must be for that name (an
      // address literal is matched against the certificate's IP addresses).
      gnutls_session_set_verify_cert(session, host.empty() ? nullptr : host.c_str(), 0);
    }
  }
  if (rc < 0) {
    return failure(EINVAL, std::string("cannot set up the TLS session: ") + gnutls_strerror(rc));
  }
  gnutls_transport_set_ptr(session, this);
  gnutls_transport_set_pull_function(session, &TlsStream::pull);
  gnutls_transport_set_vec_push_function(session, &TlsStream::push);
  return {};
}

TlsStream::TlsStream(std::unique_ptr<transport::Stream> plain,
                     std::shared_ptr<const Credentials> credentials,
                     std::vector<std::uint8_t> already_received)
    : plain_(std::move(plain)),
      credentials_(std::move(credentials)),
      inbound_(std::max(INBOUND_CAPACITY, already_received.size())),
      inbound_end_(already_received.size()) {
  std::copy(already_received.begin(), already_received.end(), inbound_.begin());
}

TlsStream::~TlsStream() {
  if (session_) gnutls_deinit(session_);
}

// ---- the transport under GnuTLS ----

ssize_t TlsStream::pull(void* self, void* data, std::size_t size) {
  auto* s = static_cast<TlsStream*>(self);
  if (s->inbound_begin_ == s->inbound_end_) {
    // GnuTLS asks for a record's 5-byte header, then for its body: reading
    // ahead as much as the socket holds takes many records in one call.
    s->inbound_begin_ = s->inbound_end_ = 0;
    const auto r = s->plain_->read(s->inbound_);
    if (r.status == IoStatus::Eof) {
      s->peer_eof_ = true;
      return 0;
    }
    if (r.status != IoStatus::Done) return s->to_gnutls(r);
    s->inbound_end_ = r.bytes;
  }
  const std::size_t n = std::min(size, s->inbound_end_ - s->inbound_begin_);
  std::memcpy(data, s->inbound_.data() + s->inbound_begin_, n);
  s->inbound_begin_ += n;
  return static_cast<ssize_t>(n);
}

ssize_t TlsStream::push(void* self, const iovec* segments, int count) {
  auto* s = static_cast<TlsStream*>(self);
  return s->to_gnutls(s->plain_->write({segments, static_cast<std::size_t>(count)}));
}

ssize_t TlsStream::to_gnutls(const IoResult& r) {
  switch (r.status) {
    case IoStatus::Done:
      return static_cast<ssize_t>(r.bytes);
    case IoStatus::WouldBlock:
    case IoStatus::Eof:  // writes never report it; reads handled it before
      gnutls_transport_set_errno(session_, EAGAIN);
      return -1;
    case IoStatus::Failed:
      transport_errno_ = r.errnum;
      gnutls_transport_set_errno(session_, r.errnum);
      return -1;
  }
  return -1;
}

// ---- the handshake ----

HandshakeProgress TlsStream::handshake() {
  if (established_) return {HandshakeProgress::State::Done, false, {}};
  if (broken_) return {HandshakeProgress::State::Failed, false, {EPROTO, "the TLS session failed"}};
  int rc = 0;
  do {
    rc = gnutls_handshake(session_);
    // Interruptions and warning alerts only pause the handshake.
  } while (rc < 0 && rc != GNUTLS_E_AGAIN && !gnutls_error_is_fatal(rc));
  if (rc == 0) {
    established_ = true;
    return {HandshakeProgress::State::Done, false, {}};
  }
  if (rc == GNUTLS_E_AGAIN) {
    return {HandshakeProgress::State::WouldBlock, gnutls_record_get_direction(session_) == 1, {}};
  }
  broken_ = true;
  if (!peer_eof_ && transport_errno_ == 0 && rc != GNUTLS_E_FATAL_ALERT_RECEIVED) {
    // Tell the server why (bad certificate, ...), once, without waiting.
    gnutls_alert_send_appropriate(session_, rc);
  }
  return {HandshakeProgress::State::Failed, false, handshake_error(rc)};
}

Error TlsStream::handshake_error(int code) const {
  if (code == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR || code == GNUTLS_E_CERTIFICATE_ERROR) {
    std::string why = gnutls_strerror(code);
    gnutls_datum_t text{nullptr, 0};
    const unsigned status = gnutls_session_get_verify_cert_status(session_);
    if (status != 0 &&
        gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text, 0) >= 0) {
      why = std::string(reinterpret_cast<const char*>(text.data), text.size);
      gnutls_free(text.data);
      while (!why.empty() && (why.back() == ' ' || why.back() == '\0')) why.pop_back();
    }
    const std::string& host = credentials_->options().host_name;
    return {EACCES, "the server's certificate does not verify" +
                        (host.empty() ? std::string() : " for '" + host + "'") + ": " + why};
  }
  if (code == GNUTLS_E_FATAL_ALERT_RECEIVED) {
    const auto r = alert_failure();
    return {r.errnum, r.detail};
  }
  if (transport_errno_ != 0) {
    return {transport_errno_, with_strerror("the connection failed", transport_errno_)};
  }
  if (peer_eof_ || code == GNUTLS_E_PREMATURE_TERMINATION) {
    return {ECONNRESET, "the server closed the connection"};
  }
  return {EPROTO, gnutls_strerror(code)};
}

std::string TlsStream::describe_session() const {
  if (!established_) return "no TLS session";
  char* d = gnutls_session_get_desc(session_);
  if (!d) return "TLS";
  std::string out(d);
  gnutls_free(d);
  return out;
}

// ---- records ----

TlsStream::IoResult TlsStream::failed(int code) {
  broken_ = true;
  if (code == GNUTLS_E_FATAL_ALERT_RECEIVED) return alert_failure();
  if (transport_errno_ != 0) {
    // The peer may have said why before it hung up (TLS 1.3 servers judge
    // the client's certificate after the client's handshake is over): an
    // alert waiting to be read explains more than a broken pipe.
    if (transport_errno_ == EPIPE || transport_errno_ == ECONNRESET) {
      std::uint8_t scratch[256];
      if (gnutls_record_recv(session_, scratch, sizeof scratch) == GNUTLS_E_FATAL_ALERT_RECEIVED) {
        return alert_failure();
      }
    }
    return {IoStatus::Failed, 0, transport_errno_};
  }
  return {IoStatus::Failed, 0, EPROTO, std::string("TLS: ") + gnutls_strerror(code)};
}

TlsStream::IoResult TlsStream::alert_failure() const {
  const auto alert = gnutls_alert_get(session_);
  // GnuTLS servers answer a TLS 1.3 PSK binder that does not verify (the
  // wrong key) with illegal_parameter rather than decrypt_error.
  const bool refused = is_authentication_alert(alert) ||
                       (credentials_->uses_psk() && alert == GNUTLS_A_ILLEGAL_PARAMETER);
  const char* name = gnutls_alert_get_name(alert);
  std::string detail =
      std::string("the server ended the TLS session with the alert '") + (name ? name : "?") + "'";
  if (refused) {
    detail += credentials_->uses_psk() ? " (it refused the client's username or pre-shared key)"
                                       : " (it refused the client's certificate)";
    return {IoStatus::Failed, 0, EACCES, std::move(detail)};
  }
  return {IoStatus::Failed, 0, EPROTO, std::move(detail)};
}

TlsStream::IoResult TlsStream::read(std::span<std::uint8_t> into) {
  if (into.empty()) return {IoStatus::Done};
  if (broken_) return {IoStatus::Failed, 0, EPROTO, "the TLS session already failed"};
  read_wants_write_ = false;
  for (;;) {
    const ssize_t n = gnutls_record_recv(session_, into.data(), into.size());
    if (n > 0) return {IoStatus::Done, static_cast<std::size_t>(n)};
    // 0 is the server's close_notify; a connection closed without one ends
    // the stream too, and the engine judges whether that was too early.
    if (n == 0 || n == GNUTLS_E_PREMATURE_TERMINATION) return {IoStatus::Eof};
    if (n == GNUTLS_E_AGAIN) {
      read_wants_write_ = gnutls_record_get_direction(session_) == 1;
      return {IoStatus::WouldBlock};
    }
    // A request to renegotiate (TLS 1.2) is declined by not acting on it;
    // interruptions and warnings are retried.
    if (n == GNUTLS_E_REHANDSHAKE || !gnutls_error_is_fatal(static_cast<int>(n))) continue;
    return failed(static_cast<int>(n));
  }
}

TlsStream::IoResult TlsStream::write(std::span<const iovec> segments) {
  if (broken_) return {IoStatus::Failed, 0, EPROTO, "the TLS session already failed"};
  if (pending_record_ > 0) {
    // GnuTLS took these bytes (the first ones offered now: they were not
    // reported sent) into a record that did not fully leave; sending nothing
    // new finishes it, after which they count as written.
    for (;;) {
      const ssize_t n = gnutls_record_send(session_, nullptr, 0);
      if (n >= 0) break;
      if (n == GNUTLS_E_AGAIN) return {IoStatus::WouldBlock};
      if (n != GNUTLS_E_INTERRUPTED) return failed(static_cast<int>(n));
    }
    return {IoStatus::Done, std::exchange(pending_record_, 0)};
  }
  std::size_t total = 0;
  std::size_t index = 0;   // segment
  std::size_t offset = 0;  // within it
  while (index < segments.size()) {
    if (offset == segments[index].iov_len) {
      ++index;
      offset = 0;
      continue;
    }
    // One record's worth: straight from a large segment, else gathered.
    const auto* base = static_cast<const std::uint8_t*>(segments[index].iov_base) + offset;
    std::size_t length = std::min(segments[index].iov_len - offset, MAX_RECORD_PAYLOAD);
    const std::uint8_t* data = base;
    std::size_t next_index = index;
    std::size_t next_offset = offset + length;
    if (length < MAX_RECORD_PAYLOAD && index + 1 < segments.size()) {
      staging_.assign(base, base + length);
      while (staging_.size() < MAX_RECORD_PAYLOAD && ++next_index < segments.size()) {
        const auto* p = static_cast<const std::uint8_t*>(segments[next_index].iov_base);
        const std::size_t take =
            std::min(segments[next_index].iov_len, MAX_RECORD_PAYLOAD - staging_.size());
        staging_.insert(staging_.end(), p, p + take);
        next_offset = take;
      }
      if (next_index == segments.size()) {
        next_index = segments.size() - 1;
        next_offset = segments.back().iov_len;
      }
      data = staging_.data();
      length = staging_.size();
    }
    ssize_t n = 0;
    do {
      n = gnutls_record_send(session_, data, length);
    } while (n == GNUTLS_E_INTERRUPTED);
    if (n == GNUTLS_E_AGAIN) {
      pending_record_ = length;
      break;
    }
    if (n < 0) return failed(static_cast<int>(n));
    total += static_cast<std::size_t>(n);
    if (static_cast<std::size_t>(n) < length) break;  // report what went; the rest comes again
    index = next_index;
    offset = next_offset;
  }
  if (total == 0 && pending_record_ > 0) return {IoStatus::WouldBlock};
  return {IoStatus::Done, total};
}

bool TlsStream::needs_write_readiness() const {
  return pending_record_ > 0 || read_wants_write_;
}

bool TlsStream::has_buffered_input() const {
  // Decrypted bytes GnuTLS holds, or received bytes not yet decrypted: no
  // poll() would announce either.
  return established_ && !broken_ &&
         (gnutls_record_check_pending(session_) > 0 || inbound_begin_ < inbound_end_);
}

void TlsStream::shutdown() {
  if (established_ && !broken_ && !bye_sent_) {
    bye_sent_ = true;
    // close_notify is one small record; the socket has room for it unless
    // the peer stopped reading, so waiting briefly is enough.
    for (int attempt = 0; attempt < 10; ++attempt) {
      const int rc = gnutls_bye(session_, GNUTLS_SHUT_WR);
      if (rc != GNUTLS_E_AGAIN && rc != GNUTLS_E_INTERRUPTED) break;
      pollfd p{plain_->fd(), POLLOUT, 0};
      if (::poll(&p, 1, 100) < 0 && errno != EINTR) break;
    }
  }
  plain_->shutdown();
}

}  // namespace nbdref::tls
