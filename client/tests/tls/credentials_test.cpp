// Loading TLS credentials: what is looked for where, and how each missing
// or unusable piece is reported before anything is sent.
#include "tls/credentials.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>

namespace nbdref::tls {
namespace {

std::function<void(const std::string&)> ignore() {
  return [](const std::string&) {};
}

class ScratchDir {
 public:
  ScratchDir() {
    char name[] = "/tmp/nbdref-tls-test-XXXXXX";
    if (::mkdtemp(name)) path_ = name;
  }
  ~ScratchDir() {
    if (!path_.empty()) std::system(("rm -rf '" + path_ + "'").c_str());
  }
  const std::string& path() const { return path_; }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ + "/" + name) << text;
  }

 private:
  std::string path_;
};

TEST(Credentials, DefaultDirectoriesAreLibnbds) {
  const auto dirs = default_certificate_directories();
  if (::geteuid() == 0) {
    EXPECT_EQ(dirs, std::vector<std::string>{"/etc/pki/libnbd"});
  } else if (const char* home = std::getenv("HOME")) {
    EXPECT_EQ(dirs, (std::vector<std::string>{std::string(home) + "/.pki/libnbd",
                                              std::string(home) + "/.config/pki/libnbd"}));
  }
}

TEST(Credentials, AMissingCertificatesDirectoryIsEnoent) {
  TlsOptions o;
  o.certificates_dir = "/nonexistent/nbdref-pki";
  const auto c = Credentials::load(o, ignore());
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().errnum, ENOENT);
  EXPECT_NE(c.error().message.find("/nonexistent/nbdref-pki does not exist"), std::string::npos);
}

TEST(Credentials, WithoutCaCertThePeerIsCheckedAgainstTheSystemsCas) {
  ScratchDir dir;
  TlsOptions o;
  o.certificates_dir = dir.path();
  std::string note;
  const auto c = Credentials::load(o, [&note](const std::string& m) { note += m; });
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_FALSE((*c)->uses_psk());
  EXPECT_NE((*c)->certificates(), nullptr);
  EXPECT_NE(note.find("the system's trusted CAs"), std::string::npos) << note;
}

TEST(Credentials, AClientCertificateWithoutItsKeyIsEinval) {
  ScratchDir dir;
  dir.write("client-cert.pem", "not used");
  TlsOptions o;
  o.certificates_dir = dir.path();
  const auto c = Credentials::load(o, ignore());
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().errnum, EINVAL);
  EXPECT_NE(c.error().message.find("client-key.pem is missing"), std::string::npos)
      << c.error().message;
}

TEST(Credentials, AnUnreadableCaIsReportedWithItsPath) {
  ScratchDir dir;
  dir.write("ca-cert.pem", "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n");
  TlsOptions o;
  o.certificates_dir = dir.path();
  const auto c = Credentials::load(o, ignore());
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find(dir.path() + "/ca-cert.pem"), std::string::npos)
      << c.error().message;
}

TEST(Credentials, PskNeedsTheUsersKey) {
  ScratchDir dir;
  dir.write("keys.psk", "alice:00112233\n");
  TlsOptions o;
  o.psk_file = dir.path() + "/keys.psk";
  o.username = "alice";
  const auto c = Credentials::load(o, ignore());
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE((*c)->uses_psk());
  EXPECT_NE((*c)->psk(), nullptr);
  EXPECT_EQ((*c)->certificates(), nullptr);

  o.username = "bob";
  const auto none = Credentials::load(o, ignore());
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().errnum, ENOENT);
}

}  // namespace
}  // namespace nbdref::tls
