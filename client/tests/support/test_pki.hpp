// Certificates and pre-shared keys for TLS tests, made at test time with
// certtool and psktool (Debian's gnutls-bin), so that no private key is ever
// committed. Everything is made once per test program, in one private
// directory removed at exit. Keys are ECDSA: fast to generate.
#pragma once

#include <string>

#include "support/temp_dir.hpp"

namespace nbdref::test {

class TestPki {
 public:
  // The program's PKI, made at the first call. Throws std::runtime_error
  // with the tool's output when certtool or psktool fails.
  static const TestPki& get();

  // Server directories, in the layout nbdkit --tls-certificates and
  // qemu-nbd's tls-creds-x509 read: ca-cert.pem, server-cert.pem,
  // server-key.pem. Each server certificate is signed by the CA.
  std::string server_dir;             // for localhost and 127.0.0.1
  std::string expired_server_dir;     // the same names, expired since 2002
  std::string wrong_host_server_dir;  // for wrong-host.invalid only

  // Client directories (set_tls_certificates): ca-cert.pem and, except
  // where said, client-cert.pem + client-key.pem signed by the CA.
  std::string client_dir;
  std::string ca_only_client_dir;   // no client certificate
  std::string other_ca_client_dir;  // a second, unrelated CA and a client certificate it signed

  // psktool files ("username:hexkey").
  std::string psk_file;            // alice
  std::string wrong_key_psk_file;  // alice, with a different key
  std::string bob_psk_file;        // bob only
  std::string psk_dir;             // keys.psk = psk_file's key, for qemu-nbd's tls-creds-psk

  // The CA's certificate and the server's own certificate and key files.
  std::string ca_cert;
  std::string server_cert;
  std::string server_key;

 private:
  TestPki();
  TempDir dir_;
};

}  // namespace nbdref::test
