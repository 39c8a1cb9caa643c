#include "tls/credentials.hpp"

#include <gnutls/gnutls.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "tls/psk_file.hpp"

namespace nbdref::tls {
namespace {

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// GnuTLS reports failures as negative codes; the errno is the closest fit:
// a file it could not open is ENOENT (or EACCES), anything it could not
// parse is EINVAL.
int errno_for(int gnutls_code) {
  switch (gnutls_code) {
    case GNUTLS_E_FILE_ERROR:
      return ENOENT;
    case GNUTLS_E_MEMORY_ERROR:
      return ENOMEM;
    default:
      return EINVAL;
  }
}

Error gnutls_failure(const std::string& what, int code) {
  return Error{errno_for(code), what + ": " + gnutls_strerror(code)};
}

// The certificates directory to use: the caller's (which must exist), else
// the first default that exists, else none (the system's CAs).
Result<std::optional<std::string>> certificates_directory(const TlsOptions& options) {
  if (options.certificates_dir) {
    if (!is_directory(*options.certificates_dir)) {
      return failure(ENOENT, "the TLS certificates directory " + *options.certificates_dir +
                                 " does not exist (see set_tls_certificates)");
    }
    return options.certificates_dir;
  }
  for (const auto& dir : default_certificate_directories()) {
    if (is_directory(dir)) return std::optional<std::string>(dir);
  }
  return std::optional<std::string>();
}

}  // namespace

std::vector<std::string> default_certificate_directories() {
  if (::geteuid() == 0) return {"/etc/pki/libnbd"};
  const char* home = std::getenv("HOME");
  if (!home || !*home) return {};
  const std::string h(home);
  return {h + "/.pki/libnbd", h + "/.config/pki/libnbd"};
}

Credentials::~Credentials() {
  if (certificates_) gnutls_certificate_free_credentials(certificates_);
  if (psk_) gnutls_psk_free_client_credentials(psk_);
}

Result<std::shared_ptr<const Credentials>> Credentials::load(
    const TlsOptions& options, const std::function<void(const std::string&)>& note) {
  std::shared_ptr<Credentials> c(new Credentials());
  c->options_ = options;

  if (options.psk_file) {
    auto key = read_psk_key(*options.psk_file, options.username);
    if (!key) return tl::unexpected(key.error());
    gnutls_psk_client_credentials_t psk = nullptr;
    if (int rc = gnutls_psk_allocate_client_credentials(&psk); rc < 0) {
      return tl::unexpected(gnutls_failure("cannot allocate PSK credentials", rc));
    }
    c->psk_ = psk;
    const gnutls_datum_t datum{key->data(), static_cast<unsigned>(key->size())};
    if (int rc = gnutls_psk_set_client_credentials(psk, options.username.c_str(), &datum,
                                                   GNUTLS_PSK_KEY_RAW);
        rc < 0) {
      return tl::unexpected(gnutls_failure(
          "cannot use the key of TLS user '" + options.username + "' from " + *options.psk_file,
          rc));
    }
    c->summary_ = "pre-shared key of user '" + options.username + "' from " + *options.psk_file;
    note("TLS: " + c->summary_);
    return std::shared_ptr<const Credentials>(std::move(c));
  }

  auto dir = certificates_directory(options);
  if (!dir) return tl::unexpected(dir.error());
  gnutls_certificate_credentials_t certs = nullptr;
  if (int rc = gnutls_certificate_allocate_credentials(&certs); rc < 0) {
    return tl::unexpected(gnutls_failure("cannot allocate X.509 credentials", rc));
  }
  c->certificates_ = certs;

  std::string ca_from = "the system's trusted CAs";
  const std::string ca = *dir ? **dir + "/ca-cert.pem" : std::string();
  if (*dir && file_exists(ca)) {
    const int n = gnutls_certificate_set_x509_trust_file(certs, ca.c_str(), GNUTLS_X509_FMT_PEM);
    if (n < 0) return tl::unexpected(gnutls_failure("cannot load the TLS CA " + ca, n));
    if (n == 0) return failure(EINVAL, "the TLS CA file " + ca + " holds no certificate");
    ca_from = ca;
  } else {
    // Without a CA of its own the client trusts what the system trusts
    // (none at all is possible: then no server certificate verifies).
    const int n = gnutls_certificate_set_x509_system_trust(certs);
    if (n < 0) {
      return tl::unexpected(gnutls_failure("cannot load the system's trusted CAs", n));
    }
    if (n == 0) ca_from = "the system's trusted CAs (there are none)";
  }
  c->summary_ = "X.509, CA from " + ca_from;

  if (*dir) {
    const std::string crl = **dir + "/ca-crl.pem";
    if (file_exists(crl)) {
      const int n = gnutls_certificate_set_x509_crl_file(certs, crl.c_str(), GNUTLS_X509_FMT_PEM);
      if (n < 0) return tl::unexpected(gnutls_failure("cannot load the TLS CRL " + crl, n));
      c->summary_ += ", revocations from " + crl;
    }
    const std::string cert = **dir + "/client-cert.pem";
    const std::string key = **dir + "/client-key.pem";
    const bool have_cert = file_exists(cert);
    const bool have_key = file_exists(key);
    if (have_cert != have_key) {
      return failure(EINVAL, (have_cert ? key : cert) +
                                 " is missing: a client certificate needs "
                                 "both client-cert.pem and client-key.pem");
    }
    if (have_cert) {
      const int rc = gnutls_certificate_set_x509_key_file(certs, cert.c_str(), key.c_str(),
                                                          GNUTLS_X509_FMT_PEM);
      if (rc < 0) {
        return tl::unexpected(gnutls_failure(
            "cannot load the TLS client certificate " + cert + " and key " + key, rc));
      }
      c->summary_ += ", client certificate " + cert;
    }
  }
  if (!options.verify_peer) c->summary_ += ", server not verified";
  note("TLS: " + c->summary_);
  return std::shared_ptr<const Credentials>(std::move(c));
}

}  // namespace nbdref::tls
