#include "support/test_pki.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <vector>

#include "support/program_run.hpp"

namespace nbdref::test {
namespace {

namespace fs = std::filesystem;

void run(std::vector<std::string> argv) {
  const ProgramRun r = run_program(std::move(argv));
  if (!r.status || *r.status != 0) throw std::runtime_error("test PKI: " + describe(r));
}

void write(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out.flush()) throw std::runtime_error("test PKI: cannot write " + path);
}

std::string make_dir(const TempDir& root, const std::string& name) {
  const std::string path = root.file(name);
  if (::mkdir(path.c_str(), 0700) != 0) throw std::runtime_error("test PKI: cannot create " + path);
  return path;
}

void copy(const std::string& from, const std::string& to) {
  fs::copy_file(from, to, fs::copy_options::overwrite_existing);
}

void private_key(const std::string& path) {
  run({"certtool", "--generate-privkey", "--key-type=ecdsa", "--outfile", path});
}

// A certificate for `key` signed by the CA `ca_cert`/`ca_key`, as `info` (a
// certtool template) describes it.
void certificate(const std::string& out, const std::string& key, const std::string& ca_cert,
                 const std::string& ca_key, const std::string& info) {
  const std::string tmpl = out + ".info";
  write(tmpl, info);
  run({"certtool", "--generate-certificate", "--load-ca-certificate", ca_cert, "--load-ca-privkey",
       ca_key, "--load-privkey", key, "--template", tmpl, "--outfile", out});
}

struct Ca {
  std::string cert;
  std::string key;
};

Ca certificate_authority(const TempDir& root, const std::string& name) {
  const std::string dir = make_dir(root, name);
  Ca ca{dir + "/ca-cert.pem", dir + "/ca-key.pem"};
  private_key(ca.key);
  write(dir + "/ca.info",
        "cn = nbdref test CA " + name + "\nca\ncert_signing_key\n" + "expiration_days = 30\n");
  run({"certtool", "--generate-self-signed", "--load-privkey", ca.key, "--template",
       dir + "/ca.info", "--outfile", ca.cert});
  return ca;
}

// ca-cert.pem, server-cert.pem and server-key.pem in a new directory.
std::string server_directory(const TempDir& root, const std::string& name, const Ca& ca,
                             const std::string& names_and_dates) {
  const std::string dir = make_dir(root, name);
  copy(ca.cert, dir + "/ca-cert.pem");
  private_key(dir + "/server-key.pem");
  certificate(dir + "/server-cert.pem", dir + "/server-key.pem", ca.cert, ca.key,
              "organization = nbdref tests\n" + names_and_dates +
                  "tls_www_server\nsigning_key\nencryption_key\n");
  return dir;
}

// ca-cert.pem and, when `with_certificate`, client-cert.pem + client-key.pem.
std::string client_directory(const TempDir& root, const std::string& name, const Ca& ca,
                             bool with_certificate) {
  const std::string dir = make_dir(root, name);
  copy(ca.cert, dir + "/ca-cert.pem");
  if (with_certificate) {
    private_key(dir + "/client-key.pem");
    certificate(dir + "/client-cert.pem", dir + "/client-key.pem", ca.cert, ca.key,
                "organization = nbdref tests\ncn = nbdref test client\n"
                "expiration_days = 30\ntls_www_client\nsigning_key\nencryption_key\n");
  }
  return dir;
}

}  // namespace

const TestPki& TestPki::get() {
  static const TestPki pki;
  return pki;
}

TestPki::TestPki() : dir_("nbdref-pki") {
  const Ca ca = certificate_authority(dir_, "ca");
  const Ca other = certificate_authority(dir_, "other-ca");
  ca_cert = ca.cert;

  const std::string here = "cn = localhost\ndns_name = localhost\nip_address = 127.0.0.1\n";
  server_dir = server_directory(dir_, "server", ca, here + "expiration_days = 30\n");
  server_cert = server_dir + "/server-cert.pem";
  server_key = server_dir + "/server-key.pem";
  expired_server_dir = server_directory(dir_, "server-expired", ca,
                                        here +
                                            "activation_date = \"2001-01-01 00:00:00 UTC\"\n"
                                            "expiration_date = \"2002-01-01 00:00:00 UTC\"\n");
  wrong_host_server_dir =
      server_directory(dir_, "server-wrong-host", ca,
                       "cn = wrong-host.invalid\ndns_name = wrong-host.invalid\n"
                       "expiration_days = 30\n");

  client_dir = client_directory(dir_, "client", ca, true);
  ca_only_client_dir = client_directory(dir_, "client-ca-only", ca, false);
  other_ca_client_dir = client_directory(dir_, "client-other-ca", other, true);

  psk_dir = make_dir(dir_, "psk");
  psk_file = psk_dir + "/keys.psk";
  run({"psktool", "-u", "alice", "-p", psk_file});
  wrong_key_psk_file = dir_.file("wrong-key.psk");
  run({"psktool", "-u", "alice", "-p", wrong_key_psk_file});
  bob_psk_file = dir_.file("bob.psk");
  run({"psktool", "-u", "bob", "-p", bob_psk_file});
}

}  // namespace nbdref::test
