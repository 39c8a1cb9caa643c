// TLS and URI settings (nbd_set_tls(3) ... nbd_set_uri_allow_local_file(3)):
// settings are validated and kept; what needs TLS works exactly when the
// build has it (nbd_supports_tls(3)), and fails with ENOTSUP otherwise, as
// in a libnbd built without GnuTLS. Real TLS sessions are tested against
// real servers in interop/tls_interop_test.cpp. Connecting by URI is
// uri_test.cpp's; here, a build without URI support refusing with ENOTSUP.
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

// Asks for TLS: true when the build has it (and the setting took), false
// after checking that a build without it refused with ENOTSUP, which is all
// such a build can be asked.
bool tls_set(nbd_handle* h, int mode) {
  const int rc = nbd_set_tls(h, mode);
  if (!NBDREF_TLS_BUILT) {
    EXPECT_EQ(rc, -1);
    EXPECT_EQ(nbd_get_errno(), ENOTSUP) << last_error();
    return false;
  }
  EXPECT_EQ(rc, 0) << last_error();
  return rc == 0;
}

TEST(Tls, DisabledByDefaultAndSupportedAsBuilt) {
  auto h = new_handle();
  EXPECT_EQ(nbd_get_tls(h.get()), LIBNBD_TLS_DISABLE);
  EXPECT_EQ(nbd_supports_tls(h.get()), NBDREF_TLS_BUILT ? 1 : 0);
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
TEST(Tls, EnablingWorksExactlyWhenBuiltWithTls) {
  auto h = new_handle();
  if (NBDREF_TLS_BUILT) {
    EXPECT_EQ(nbd_set_tls(h.get(), LIBNBD_TLS_ALLOW), 0) << last_error();
    EXPECT_EQ(nbd_get_tls(h.get()), LIBNBD_TLS_ALLOW);
    EXPECT_EQ(nbd_set_tls(h.get(), LIBNBD_TLS_REQUIRE), 0) << last_error();
    EXPECT_EQ(nbd_get_tls(h.get()), LIBNBD_TLS_REQUIRE);
    EXPECT_EQ(nbd_set_tls(h.get(), LIBNBD_TLS_DISABLE), 0) << last_error();
    EXPECT_EQ(nbd_get_tls(h.get()), LIBNBD_TLS_DISABLE);
  } else {
    EXPECT_EQ(nbd_set_tls(h.get(), LIBNBD_TLS_ALLOW), -1);
    EXPECT_EQ(nbd_get_errno(), ENOTSUP) << last_error();
    EXPECT_EQ(nbd_set_tls(h.get(), LIBNBD_TLS_REQUIRE), -1);
    EXPECT_EQ(nbd_get_errno(), ENOTSUP) << last_error();
    EXPECT_EQ(nbd_get_tls(h.get()), LIBNBD_TLS_DISABLE);
  }
}

// Whatever nbd_set_tls said, a handle that asked for required TLS never ends
// up connected without it: nbdkit without --tls refuses NBD_OPT_STARTTLS,
// and the client ends the session (C-TLS-011).
TEST(Tls, RequiredTlsIsNeverSilentlyDropped) {
  auto h = new_handle();
  if (nbd_set_tls(h.get(), LIBNBD_TLS_REQUIRE) == 0) {
    EXPECT_EQ(connect_nbdkit(h.get()), -1);
    EXPECT_EQ(nbd_get_errno(), ENOTSUP) << last_error();
    EXPECT_NE(last_error().find("the server refused NBD_OPT_STARTTLS"), std::string::npos)
        << last_error();
    EXPECT_EQ(nbd_aio_is_ready(h.get()), 0);
    EXPECT_EQ(nbd_aio_is_dead(h.get()), 1);
  } else {
    EXPECT_EQ(nbd_get_errno(), ENOTSUP) << last_error();
    EXPECT_EQ(nbd_get_tls(h.get()), LIBNBD_TLS_DISABLE);
  }
}

// nbd_set_tls(3): LIBNBD_TLS_ALLOW "will fall back to an unencrypted
// connection", and nbd_get_tls_negotiated(3) says so (C-TLS-009).
TEST(Tls, AllowedTlsFallsBackToPlaintextAndSaysSo) {
  auto h = new_handle();
  if (!tls_set(h.get(), LIBNBD_TLS_ALLOW)) return;
  ASSERT_EQ(connect_nbdkit(h.get()), 0) << last_error();
  EXPECT_EQ(nbd_get_tls_negotiated(h.get()), 0);
  char buf[512];
  EXPECT_EQ(nbd_pread(h.get(), buf, sizeof buf, 0, 0), 0) << last_error();
}

// The credentials are loaded before the first option: a missing PSK file
// fails the connection at once, naming the file.
TEST(Tls, MissingPskFileFailsTheConnectionNamingIt) {
  auto h = new_handle();
  if (!tls_set(h.get(), LIBNBD_TLS_REQUIRE)) return;
  ASSERT_EQ(nbd_set_tls_psk_file(h.get(), "/nonexistent/nbdref-keys.psk"), 0);
  EXPECT_EQ(connect_nbdkit(h.get()), -1);
  EXPECT_EQ(nbd_get_errno(), ENOENT) << last_error();
  EXPECT_NE(last_error().find("/nonexistent/nbdref-keys.psk"), std::string::npos) << last_error();
  EXPECT_EQ(nbd_aio_is_dead(h.get()), 1);
}

TEST(Tls, MissingCertificatesDirectoryFailsTheConnectionNamingIt) {
  auto h = new_handle();
  if (!tls_set(h.get(), LIBNBD_TLS_ALLOW)) return;
  ASSERT_EQ(nbd_set_tls_certificates(h.get(), "/nonexistent/nbdref-pki"), 0);
  EXPECT_EQ(connect_nbdkit(h.get()), -1);
  EXPECT_EQ(nbd_get_errno(), ENOENT) << last_error();
  EXPECT_NE(last_error().find("/nonexistent/nbdref-pki does not exist"), std::string::npos)
      << last_error();
}

// nbd_opt_starttls (libnbd 1.16) in option mode against a server without
// TLS: false, and the session goes on in plaintext (C-TLS-009).
TEST(Tls, OptStartTlsDeclinedByServerIsFalse) {
  auto h = new_handle();
  ASSERT_EQ(nbd_set_opt_mode(h.get(), true), 0);
  ASSERT_EQ(connect_nbdkit(h.get()), 0) << last_error();
  ASSERT_EQ(nbd_aio_is_negotiating(h.get()), 1);
  if (!NBDREF_TLS_BUILT) {
    EXPECT_EQ(nbd_opt_starttls(h.get()), -1);
    EXPECT_EQ(nbd_get_errno(), ENOTSUP) << last_error();
    return;
  }
  EXPECT_EQ(nbd_opt_starttls(h.get()), 0) << last_error();
  EXPECT_EQ(nbd_aio_is_negotiating(h.get()), 1);
  EXPECT_EQ(nbd_get_tls_negotiated(h.get()), 0);
  EXPECT_EQ(nbd_opt_go(h.get()), 0) << last_error();
  EXPECT_EQ(nbd_aio_is_ready(h.get()), 1);
}

TEST(Tls, AioOptStartTlsReportsTheRefusalToItsCallback) {
  auto h = new_handle();
  ASSERT_EQ(nbd_set_opt_mode(h.get(), true), 0);
  ASSERT_EQ(connect_nbdkit(h.get()), 0) << last_error();
  struct Seen {
    int calls = 0;
    int error = -1;
    int frees = 0;
  } seen;
  nbd_completion_callback cb{[](void* user_data, int* error) {
                               auto* s = static_cast<Seen*>(user_data);
                               ++s->calls;
                               s->error = *error;
                               return 1;
                             },
                             &seen,
                             [](void* user_data) { ++static_cast<Seen*>(user_data)->frees; }};
  if (!NBDREF_TLS_BUILT) {
    EXPECT_EQ(nbd_aio_opt_starttls(h.get(), cb), -1);
    EXPECT_EQ(nbd_get_errno(), ENOTSUP) << last_error();
    EXPECT_EQ(seen.frees, 1);
    return;
  }
  ASSERT_EQ(nbd_aio_opt_starttls(h.get(), cb), 0) << last_error();
  for (int i = 0; i < 100 && seen.calls == 0; ++i) ASSERT_NE(nbd_poll(h.get(), 100), -1);
  EXPECT_EQ(seen.calls, 1);
  EXPECT_NE(seen.error, 0);  // nbdkit's refusal
  EXPECT_EQ(seen.frees, 1);
  EXPECT_EQ(nbd_aio_is_negotiating(h.get()), 1);
  EXPECT_EQ(nbd_get_tls_negotiated(h.get()), 0);
}

TEST(Tls, NotNegotiatedOnAPlaintextConnection) {
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

#if !NBDREF_URI_BUILT
// Connecting by URI with URI support is uri_test.cpp's; a build without
// it (NBDREF_URI off) answers as a libnbd built without libxml2.
TEST(Uri, WithoutUriSupportConnectingIsEnotsup) {
  auto h = new_handle();
  EXPECT_EQ(nbd_supports_uri(h.get()), 0);
  EXPECT_EQ(nbd_connect_uri(h.get(), "nbd+unix:///?socket=/tmp/nbdref-none.sock"), -1);
  EXPECT_EQ(nbd_get_errno(), ENOTSUP) << last_error();
  EXPECT_EQ(nbd_aio_connect_uri(h.get(), "nbd://127.0.0.1:10809/x"), -1);
  EXPECT_EQ(nbd_get_errno(), ENOTSUP) << last_error();
}

TEST(Uri, WithoutUriSupportGetUriIsEnotsup) {
  auto h = connected_handle();
  EXPECT_EQ(nbd_get_uri(h.get()), nullptr);
  EXPECT_EQ(nbd_get_errno(), ENOTSUP) << last_error();
}
#endif

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
