// TLS and URI settings (nbd_set_tls(3) ... nbd_set_uri_allow_local_file(3))
// in a build without TLS or URI support (nbd_supports_tls(3) and
// nbd_supports_uri(3) are false): settings are validated and kept, TLS
// cannot be turned on, URIs cannot be used.
#include "capi_fixture.hpp"

namespace nbdref::test {
namespace {

std::string take(char* s) {
  std::string r = s ? s : "(null)";
  std::free(s);
  return r;
}

// Sets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (old_.empty()) {
      ::unsetenv(name_);
    } else {
      ::setenv(name_, old_.c_str(), 1);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::string old_{};
};

// ---- TLS ----

TEST(Tls, DisabledByDefaultAndNotSupported) {
  auto h = new_handle();
  EXPECT_EQ(nbd_get_tls(h.get()), LIBNBD_TLS_DISABLE);
  EXPECT_EQ(nbd_supports_tls(h.get()), 0);
}

TEST(Tls, InvalidModesAreEinval) {
  auto h = new_handle();
  EXPECT_EQ(nbd_set_tls(h.get(), -1), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_set_tls(h.get(), 3), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_get_tls(h.get()), LIBNBD_TLS_DISABLE);
  EXPECT_EQ(nbd_set_tls(h.get(), LIBNBD_TLS_DISABLE), 0);
}

// nbd_set_tls(3): "Setting the level higher than zero will fail if libnbd
// was not compiled against gnutls".
TEST(Tls, EnablingFailsWithoutTlsSupport) {
  auto h = new_handle();
  ASSERT_EQ(nbd_supports_tls(h.get()), 0);
  EXPECT_EQ(nbd_set_tls(h.get(), LIBNBD_TLS_ALLOW), -1);
  EXPECT_EQ(nbd_get_errno(), ENOTSUP) << last_error();
  EXPECT_EQ(nbd_set_tls(h.get(), LIBNBD_TLS_REQUIRE), -1);
  EXPECT_EQ(nbd_get_errno(), ENOTSUP) << last_error();
  EXPECT_EQ(nbd_get_tls(h.get()), LIBNBD_TLS_DISABLE);
}

// Whatever nbd_set_tls said, a handle that asked for required TLS never ends
// up connected without it.
TEST(Tls, RequiredTlsIsNeverSilentlyDropped) {
  auto h = new_handle();
  if (nbd_set_tls(h.get(), LIBNBD_TLS_REQUIRE) == 0) {
    EXPECT_EQ(connect_nbdkit(h.get()), -1);
    EXPECT_EQ(nbd_get_errno(), ENOTSUP) << last_error();
    EXPECT_EQ(nbd_aio_is_ready(h.get()), 0);
  } else {
    EXPECT_EQ(nbd_get_errno(), ENOTSUP) << last_error();
    EXPECT_EQ(nbd_get_tls(h.get()), LIBNBD_TLS_DISABLE);
  }
}

TEST(Tls, NotNegotiatedOnceConnected) {
  auto h = new_handle();
  EXPECT_EQ(nbd_get_tls_negotiated(h.get()), -1);  // not connected yet
  ASSERT_EQ(connect_nbdkit(h.get()), 0) << last_error();
  EXPECT_EQ(nbd_get_tls_negotiated(h.get()), 0);
}

TEST(Tls, VerifyPeerRoundTrips) {
  auto h = new_handle();
  ASSERT_EQ(nbd_set_tls_verify_peer(h.get(), false), 0);
  EXPECT_EQ(nbd_get_tls_verify_peer(h.get()), 0);
  ASSERT_EQ(nbd_set_tls_verify_peer(h.get(), true), 0);
  EXPECT_EQ(nbd_get_tls_verify_peer(h.get()), 1);
}

TEST(Tls, UsernameDefaultsToLogname) {
  ScopedEnv logname("LOGNAME", "nbdref-tester");
  auto h = new_handle();
  EXPECT_EQ(take(nbd_get_tls_username(h.get())), "nbdref-tester");
  ASSERT_EQ(nbd_set_tls_username(h.get(), "alice"), 0);
  EXPECT_EQ(take(nbd_get_tls_username(h.get())), "alice");
  EXPECT_EQ(nbd_set_tls_username(h.get(), nullptr), -1);
  EXPECT_EQ(nbd_get_errno(), EFAULT);
  EXPECT_EQ(take(nbd_get_tls_username(h.get())), "alice");
}

TEST(Tls, CertificatesAndPskFileAreAcceptedAndNeverUsed) {
  auto h = new_handle();
  EXPECT_EQ(nbd_set_tls_certificates(h.get(), "/nonexistent/certificates"), 0) << last_error();
  EXPECT_EQ(nbd_set_tls_psk_file(h.get(), "/nonexistent/keys.psk"), 0) << last_error();
  EXPECT_EQ(nbd_set_tls_certificates(h.get(), nullptr), -1);
  EXPECT_EQ(nbd_get_errno(), EFAULT);
  EXPECT_EQ(nbd_set_tls_psk_file(h.get(), nullptr), -1);
  EXPECT_EQ(nbd_get_errno(), EFAULT);
  // TLS stays off, so none of it matters to the connection.
  ASSERT_EQ(connect_nbdkit(h.get()), 0) << last_error();
  EXPECT_EQ(nbd_get_tls_negotiated(h.get()), 0);
}

TEST(Tls, SettingsFrozenOnceConnected) {
  auto h = connected_handle();
  EXPECT_EQ(nbd_set_tls(h.get(), LIBNBD_TLS_DISABLE), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_set_tls_verify_peer(h.get(), false), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_set_tls_username(h.get(), "bob"), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_set_tls_certificates(h.get(), "/tmp"), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_set_tls_psk_file(h.get(), "/tmp/keys.psk"), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
}

// ---- URIs ----

TEST(Uri, NotSupportedInThisBuild) {
  auto h = new_handle();
  EXPECT_EQ(nbd_supports_uri(h.get()), 0);
  EXPECT_EQ(nbd_connect_uri(h.get(), "nbd+unix:///?socket=/tmp/nbdref-none.sock"), -1);
  EXPECT_EQ(nbd_get_errno(), ENOTSUP) << last_error();
  EXPECT_EQ(nbd_aio_connect_uri(h.get(), "nbd://127.0.0.1:10809/x"), -1);
  EXPECT_EQ(nbd_get_errno(), ENOTSUP) << last_error();
}

TEST(Uri, GetUriOfAConnectionIsNotSupported) {
  auto h = connected_handle();
  EXPECT_EQ(nbd_get_uri(h.get()), nullptr);
  EXPECT_EQ(nbd_get_errno(), ENOTSUP) << last_error();
}

TEST(Uri, AllowTransportsValidatesTheMask) {
  auto h = new_handle();
  EXPECT_EQ(nbd_set_uri_allow_transports(h.get(), LIBNBD_ALLOW_TRANSPORT_MASK), 0);
  EXPECT_EQ(nbd_set_uri_allow_transports(h.get(), LIBNBD_ALLOW_TRANSPORT_UNIX), 0);
  EXPECT_EQ(nbd_set_uri_allow_transports(h.get(), 0), 0);
  EXPECT_EQ(nbd_set_uri_allow_transports(h.get(), LIBNBD_ALLOW_TRANSPORT_MASK + 1), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
}

TEST(Uri, AllowTlsValidatesTheMode) {
  auto h = new_handle();
  for (int mode : {LIBNBD_TLS_DISABLE, LIBNBD_TLS_ALLOW, LIBNBD_TLS_REQUIRE}) {
    EXPECT_EQ(nbd_set_uri_allow_tls(h.get(), mode), 0) << mode;
  }
  EXPECT_EQ(nbd_set_uri_allow_tls(h.get(), 3), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_set_uri_allow_tls(h.get(), -1), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
}

TEST(Uri, AllowLocalFileAccepted) {
  auto h = new_handle();
  EXPECT_EQ(nbd_set_uri_allow_local_file(h.get(), true), 0);
  EXPECT_EQ(nbd_set_uri_allow_local_file(h.get(), false), 0);
}

TEST(Uri, AllowSettingsFrozenOnceConnected) {
  auto h = connected_handle();
  EXPECT_EQ(nbd_set_uri_allow_transports(h.get(), LIBNBD_ALLOW_TRANSPORT_TCP), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_set_uri_allow_tls(h.get(), LIBNBD_TLS_DISABLE), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_set_uri_allow_local_file(h.get(), true), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
}

}  // namespace
}  // namespace nbdref::test
