#include "probe/tls_session.hpp"

#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <poll.h>

#include <cerrno>

#include "probe/probe_error.hpp"

namespace nbdref::conform {
namespace {

// S-TLS-028, S-TLS-029, S-TLS-030 (proto.md "TLS versions"): the versions a
// check offers. PSK key exchanges are not in NORMAL and are added for PSK.
std::string priority(TlsVersions versions, bool psk) {
  std::string p = "NORMAL:-VERS-ALL";
  switch (versions) {
    case TlsVersions::Current:
      p += ":+VERS-TLS1.3:+VERS-TLS1.2";
      break;
    case TlsVersions::Only12:
      p += ":+VERS-TLS1.2";
      break;
    case TlsVersions::Only13:
      p += ":+VERS-TLS1.3";
      break;
    case TlsVersions::Legacy:
      p += ":+VERS-TLS1.1:+VERS-TLS1.0";
      break;
  }
  if (psk) p += ":+ECDHE-PSK:+DHE-PSK:+PSK";
  return p;
}

// Server name indication takes DNS names only, never address literals.
bool is_address_literal(const std::string& host) {
  unsigned char buffer[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

bool is_reset(int err) {
  return err == ECONNRESET || err == EPIPE || err == ECONNABORTED;
}

}  // namespace

std::string describe(TlsVersions versions) {
  switch (versions) {
    case TlsVersions::Current:
      return "TLS 1.3 and 1.2";
    case TlsVersions::Only12:
      return "TLS 1.2 only";
    case TlsVersions::Only13:
      return "TLS 1.3 only";
    case TlsVersions::Legacy:
      return "TLS 1.1 and 1.0 only";
  }
  return "?";
}

TlsSession::TlsSession(int socket, const tls::TlsOptions& options, TlsVersions versions)
    : socket_(socket) {
  auto loaded = tls::Credentials::load(options, [](const std::string&) {});
  if (!loaded) {
    throw ProbeError(ProbeError::Kind::Connect,
                     "cannot load the TLS credentials: " + loaded.error().message);
  }
  credentials_ = *loaded;
  auto setup_failed = [](const std::string& what, int rc) {
    return ProbeError(ProbeError::Kind::Connect, what + ": " + gnutls_strerror(rc));
  };
  gnutls_session_t session = nullptr;
  if (int rc = gnutls_init(&session, GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL); rc < 0) {
    throw setup_failed("cannot start a TLS session", rc);
  }
  session_ = session;
  const std::string p = priority(versions, credentials_->uses_psk());
  if (int rc = gnutls_priority_set_direct(session, p.c_str(), nullptr); rc < 0) {
    throw setup_failed("GnuTLS refused the priority string " + p, rc);
  }
  int rc = 0;
  if (credentials_->uses_psk()) {
    rc = gnutls_credentials_set(session, GNUTLS_CRD_PSK, credentials_->psk());
  } else {
    rc = gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, credentials_->certificates());
    const std::string& host = options.host_name;
    if (rc >= 0 && !host.empty() && !is_address_literal(host)) {
      rc = gnutls_server_name_set(session, GNUTLS_NAME_DNS, host.data(), host.size());
    }
    if (rc >= 0 && options.verify_peer) {
      gnutls_session_set_verify_cert(session, host.empty() ? nullptr : host.c_str(), 0);
    }
  }
  if (rc < 0) throw setup_failed("cannot set up the TLS session", rc);
  gnutls_transport_set_int(session, socket);
}

TlsSession::~TlsSession() {
  if (session_) gnutls_deinit(session_);
}

const std::string& TlsSession::credentials_summary() const {
  return credentials_->summary();
}

TlsHandshake TlsSession::handshake(const Deadline& deadline) {
  using Ending = TlsHandshake::Ending;
  for (;;) {
    const int rc = gnutls_handshake(session_);
    if (rc == 0) {
      established_ = true;
      return {Ending::Established, {}};
    }
    if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED || !gnutls_error_is_fatal(rc)) {
      if (rc == GNUTLS_E_AGAIN) {
        pollfd p{socket_, static_cast<short>(wants_write() ? POLLOUT : POLLIN), 0};
        const int r = ::poll(&p, 1, deadline.poll_timeout_ms());
        if (r == 0 || deadline.expired()) {
          throw ProbeError(ProbeError::Kind::Timeout,
                           "timed out during the TLS handshake (the check's deadline passed)");
        }
      }
      continue;
    }
    if (rc == GNUTLS_E_FATAL_ALERT_RECEIVED) {
      const char* name = gnutls_alert_get_name(gnutls_alert_get(session_));
      return {Ending::ServerAlert,
              std::string("the server sent the fatal alert '") + (name ? name : "?") + "'"};
    }
    if (rc == GNUTLS_E_PREMATURE_TERMINATION ||
        ((rc == GNUTLS_E_PULL_ERROR || rc == GNUTLS_E_PUSH_ERROR) && is_reset(errno))) {
      return {Ending::ServerClosed, "the server closed the connection"};
    }
    if (rc == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
      return {Ending::Failed, "the server's certificate does not verify"};
    }
    return {Ending::Failed, std::string("the handshake failed: ") + gnutls_strerror(rc)};
  }
}

std::string TlsSession::describe_session() const {
  char* d = gnutls_session_get_desc(session_);
  if (!d) return "TLS";
  std::string out(d);
  gnutls_free(d);
  return out;
}

TlsSession::ReadResult TlsSession::read(std::span<std::uint8_t> into) {
  for (;;) {
    const ssize_t n = gnutls_record_recv(session_, into.data(), into.size());
    if (n > 0) return {ReadStatus::Data, static_cast<std::size_t>(n), {}};
    if (n == 0) return {ReadStatus::CloseNotify, 0, {}};
    if (n == GNUTLS_E_AGAIN) return {ReadStatus::WouldBlock, 0, {}};
    if (n == GNUTLS_E_PREMATURE_TERMINATION ||
        ((n == GNUTLS_E_PULL_ERROR || n == GNUTLS_E_PUSH_ERROR) && is_reset(errno))) {
      return {ReadStatus::Closed, 0, {}};
    }
    // A TLS 1.2 renegotiation request is declined by not acting on it;
    // interruptions and warning alerts are retried.
    if (n == GNUTLS_E_REHANDSHAKE || !gnutls_error_is_fatal(static_cast<int>(n))) continue;
    if (n == GNUTLS_E_FATAL_ALERT_RECEIVED) {
      const char* name = gnutls_alert_get_name(gnutls_alert_get(session_));
      return {ReadStatus::Failed, 0,
              std::string("the server sent the fatal alert '") + (name ? name : "?") + "'"};
    }
    return {ReadStatus::Failed, 0, std::string("TLS: ") + gnutls_strerror(static_cast<int>(n))};
  }
}

TlsSession::WriteResult TlsSession::write(std::span<const std::uint8_t> bytes) {
  for (;;) {
    const ssize_t n = gnutls_record_send(session_, bytes.data(), bytes.size());
    if (n >= 0) return {WriteStatus::Done, static_cast<std::size_t>(n), {}};
    if (n == GNUTLS_E_INTERRUPTED) continue;
    // GnuTLS keeps the record it could not send whole; the caller offers
    // the same bytes again once the socket is writable.
    if (n == GNUTLS_E_AGAIN) return {WriteStatus::WouldBlock, 0, {}};
    if (n == GNUTLS_E_PUSH_ERROR && is_reset(errno)) return {WriteStatus::Closed, 0, {}};
    return {WriteStatus::Failed, 0, std::string("TLS: ") + gnutls_strerror(static_cast<int>(n))};
  }
}

bool TlsSession::wants_write() const {
  return gnutls_record_get_direction(session_) == 1;
}

bool TlsSession::has_buffered_input() const {
  return gnutls_record_check_pending(session_) > 0;
}

void TlsSession::send_close_notify(const Deadline& deadline) {
  if (!established_ || close_notify_sent_) return;
  close_notify_sent_ = true;
  for (;;) {
    const int rc = gnutls_bye(session_, GNUTLS_SHUT_WR);
    if (rc != GNUTLS_E_AGAIN && rc != GNUTLS_E_INTERRUPTED) return;
    pollfd p{socket_, POLLOUT, 0};
    if (::poll(&p, 1, deadline.poll_timeout_ms()) <= 0) return;
  }
}

}  // namespace nbdref::conform
