// What a TLS client session authenticates with, loaded before the first
// option is sent, so that a missing file is reported at once and never after
// the server has agreed to STARTTLS.
//
// Either pre-shared keys (a psktool file and a username), or X.509: the CA,
// revocation list and client certificate of a certificates directory
// (ca-cert.pem, ca-crl.pem, client-cert.pem + client-key.pem), or the
// system's trusted CAs when there is no directory.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "error/error.hpp"

// GnuTLS's credential types, declared as GnuTLS does, so that this header
// does not pull all of gnutls.h into its users.
struct gnutls_certificate_credentials_st;
struct gnutls_psk_client_credentials_st;

namespace nbdref::tls {

struct TlsOptions {
  // set_tls_certificates; when unset, the first existing default directory
  // (default_certificate_directories()), else the system's CAs.
  std::optional<std::string> certificates_dir;
  // X.509 only: check the server's certificate chain and, when host_name is
  // known, that the certificate names it. PSK authenticates both sides by
  // itself.
  bool verify_peer = true;
  // PSK: the user whose key is used (set_tls_username, or the local user).
  std::string username;
  // set_tls_psk_file: PSK instead of X.509 when set.
  std::optional<std::string> psk_file;
  // The name the server is known by: connect_tcp's host, or a tls-hostname
  // given for a Unix socket. Empty when none is known; then only the chain
  // is verified.
  std::string host_name;
};

// The directories searched, in order, when no certificates directory is set:
// /etc/pki/libnbd for root; $HOME/.pki/libnbd and $HOME/.config/pki/libnbd
// for everyone else (as libnbd documents in nbd_set_tls_certificates(3)).
std::vector<std::string> default_certificate_directories();

class Credentials {
 public:
  // Loads what `options` names. `note` hears what was chosen (for debug
  // output). Fails with ENOENT when the certificates directory given does not
  // exist or the PSK file has no key for the user, EINVAL when only one of
  // client-cert.pem and client-key.pem is present, and with the errno and
  // GnuTLS's reason when a file cannot be read or parsed.
  static Result<std::shared_ptr<const Credentials>> load(
      const TlsOptions& options, const std::function<void(const std::string&)>& note);

  ~Credentials();
  Credentials(const Credentials&) = delete;
  Credentials& operator=(const Credentials&) = delete;

  bool uses_psk() const { return psk_ != nullptr; }
  const TlsOptions& options() const { return options_; }
  // For gnutls_credentials_set: exactly one of them is set.
  gnutls_certificate_credentials_st* certificates() const { return certificates_; }
  gnutls_psk_client_credentials_st* psk() const { return psk_; }
  // "PSK for user 'alice'", "X.509, CA from /dir/ca-cert.pem", ... for messages.
  const std::string& summary() const { return summary_; }

 private:
  Credentials() = default;

  TlsOptions options_;
  gnutls_certificate_credentials_st* certificates_ = nullptr;
  gnutls_psk_client_credentials_st* psk_ = nullptr;
  std::string summary_;
};

}  // namespace nbdref::tls
