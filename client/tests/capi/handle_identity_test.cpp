// The handle itself and the library: nbd_create / nbd_close, the
// thread-local error (nbd_get_error, nbd_get_errno), debugging, the handle's
// name and private data, nbd_get_package_name, nbd_get_version.
#include <signal.h>

#include <fstream>
#include <regex>

#include "capi_fixture.hpp"
#include "support/temp_dir.hpp"

namespace nbdref::test {
namespace {

std::string take(char* s) {
  std::string r = s ? s : "(null)";
  std::free(s);
  return r;
}

TEST(Handle, CreateGivesDistinctHandlesAndCloseAcceptsNull) {
  nbd_handle* a = nbd_create();
  nbd_handle* b = nbd_create();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a, b);
  EXPECT_EQ(nbd_aio_is_created(a), 1);
  nbd_close(a);
  nbd_close(b);
  nbd_close(nullptr);
}

// nbd_connect_command(3): "When the NBD handle is closed the server
// subprocess is killed"; nbd_close(3) waits for it.
TEST(Handle, CloseKillsAndReapsTheSubprocess) {
  TempDir dir("nbdref-capi");
  const auto pidfile = dir.file("nbdkit.pid");
  auto h = new_handle();
  ASSERT_EQ(connect_nbdkit(h.get(), {.server_args = {"--pidfile", pidfile}}), 0) << last_error();
  pid_t pid = 0;
  std::ifstream(pidfile) >> pid;
  ASSERT_GT(pid, 0);
  ASSERT_EQ(kill(pid, 0), 0);
  h.reset();
  EXPECT_EQ(kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

// ---- errors ----

TEST(Errors, MessageNamesTheFailingFunctionAndErrnoIsSet) {
  auto h = new_handle();
  EXPECT_EQ(nbd_pread(h.get(), nullptr, 1, 0, 0), -1);
  ASSERT_NE(nbd_get_error(), nullptr);
  EXPECT_NE(std::string(nbd_get_error()).find("nbd_pread"), std::string::npos) << nbd_get_error();
  EXPECT_EQ(nbd_get_errno(), EFAULT);
  // The next failure replaces both.
  EXPECT_EQ(nbd_set_handshake_flags(h.get(), 8), -1);
  EXPECT_NE(std::string(nbd_get_error()).find("nbd_set_handshake_flags"), std::string::npos);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
}

TEST(Errors, EachThreadHasItsOwn) {
  auto h = new_handle();
  EXPECT_EQ(nbd_get_size(h.get()), -1);
  EXPECT_EQ(nbd_get_errno(), ENOTCONN);
  std::thread([&] {
    EXPECT_EQ(nbd_get_error(), nullptr);
    EXPECT_EQ(nbd_get_errno(), 0);
    EXPECT_EQ(nbd_set_tls(h.get(), 7), -1);
    EXPECT_EQ(nbd_get_errno(), EINVAL);
  }).join();
  EXPECT_EQ(nbd_get_errno(), ENOTCONN);  // unchanged by the other thread
}

// ---- debugging ----

struct DebugMessages {
  std::vector<std::string> contexts;
  std::vector<std::string> messages;
  static int cb(void* user_data, const char* context, const char* msg) {
    auto* self = static_cast<DebugMessages*>(user_data);
    self->contexts.emplace_back(context ? context : "");
    self->messages.emplace_back(msg ? msg : "");
    return 0;
  }
};

TEST(Debug, FlagRoundTrips) {
  ::unsetenv("LIBNBD_DEBUG");
  auto h = new_handle();
  EXPECT_EQ(nbd_get_debug(h.get()), 0);
  ASSERT_EQ(nbd_set_debug(h.get(), true), 0);
  EXPECT_EQ(nbd_get_debug(h.get()), 1);
  ASSERT_EQ(nbd_set_debug(h.get(), false), 0);
  EXPECT_EQ(nbd_get_debug(h.get()), 0);
}

TEST(Debug, CallbackReceivesMessagesOnlyWhileDebugIsOn) {
  DebugMessages log;  // outlives the handle: the callback may run until nbd_close
  auto h = new_handle();
  ASSERT_EQ(nbd_set_debug_callback(h.get(), {DebugMessages::cb, &log, nullptr}), 0);
  ASSERT_EQ(nbd_set_debug(h.get(), false), 0);
  ASSERT_EQ(nbd_set_export_name(h.get(), "quiet"), 0);
  EXPECT_TRUE(log.messages.empty());
  ASSERT_EQ(nbd_set_debug(h.get(), true), 0);
  ASSERT_EQ(connect_nbdkit(h.get()), 0) << last_error();
  ASSERT_FALSE(log.messages.empty());
  for (const auto& m : log.messages) EXPECT_FALSE(m.empty());
  EXPECT_EQ(log.contexts.front(), "nbd_connect_command");
}

TEST(Debug, ClearedCallbackIsNoLongerCalled) {
  DebugMessages log;
  auto h = new_handle();
  ASSERT_EQ(nbd_set_debug(h.get(), true), 0);
  ASSERT_EQ(nbd_set_debug_callback(h.get(), {DebugMessages::cb, &log, nullptr}), 0);
  ASSERT_EQ(nbd_clear_debug_callback(h.get()), 0);
  ASSERT_EQ(nbd_set_debug(h.get(), false), 0);  // keep stderr quiet
  ASSERT_EQ(connect_nbdkit(h.get()), 0) << last_error();
  EXPECT_TRUE(log.messages.empty());
  // Clearing when nothing is set is fine.
  EXPECT_EQ(nbd_clear_debug_callback(h.get()), 0);
}

// ---- name and private data ----

TEST(HandleName, DistinctDefaultsAndRoundTrip) {
  auto a = new_handle();
  auto b = new_handle();
  const std::string name_a = take(nbd_get_handle_name(a.get()));
  const std::string name_b = take(nbd_get_handle_name(b.get()));
  EXPECT_FALSE(name_a.empty());
  EXPECT_NE(name_a, name_b);
  ASSERT_EQ(nbd_set_handle_name(a.get(), "mine"), 0);
  EXPECT_EQ(take(nbd_get_handle_name(a.get())), "mine");
  EXPECT_EQ(nbd_set_handle_name(a.get(), nullptr), -1);
  EXPECT_EQ(nbd_get_errno(), EFAULT);
  EXPECT_EQ(take(nbd_get_handle_name(a.get())), "mine");
}

TEST(PrivateData, ZeroAtFirstAndSetReturnsThePreviousValue) {
  auto h = new_handle();
  EXPECT_EQ(nbd_get_private_data(h.get()), 0u);
  EXPECT_EQ(nbd_set_private_data(h.get(), 0xfeed), 0u);
  EXPECT_EQ(nbd_set_private_data(h.get(), 0xbeef), 0xfeedu);
  EXPECT_EQ(nbd_get_private_data(h.get()), 0xbeefu);
  // Kept through the connection's life.
  ASSERT_EQ(connect_nbdkit(h.get()), 0) << last_error();
  ASSERT_EQ(nbd_shutdown(h.get(), 0), 0);
  EXPECT_EQ(nbd_get_private_data(h.get()), 0xbeefu);
}

// ---- the library ----

TEST(Library, PackageNameIsAStaticString) {
  auto h = new_handle();
  const char* name = nbd_get_package_name(h.get());
  ASSERT_NE(name, nullptr);
  EXPECT_STRNE(name, "");
  EXPECT_EQ(nbd_get_package_name(h.get()), name);  // static: same pointer
}

TEST(Library, VersionIsMajorMinorRelease) {
  auto h = new_handle();
  const char* version = nbd_get_version(h.get());
  ASSERT_NE(version, nullptr);
  EXPECT_TRUE(std::regex_match(version, std::regex("[0-9]+\\.[0-9]+\\.[0-9]+"))) << version;
}

// nbd_supports_tls(3): true exactly when built with GnuTLS (NBDREF_TLS).
TEST(Library, SupportsTlsWhenBuiltWithIt) {
  auto h = new_handle();
  EXPECT_EQ(nbd_supports_tls(h.get()), NBDREF_TLS_BUILT ? 1 : 0);
}

// nbd_supports_uri(3): true exactly when built with libxml2 (NBDREF_URI).
TEST(Library, SupportsUrisWhenBuiltWithThem) {
  auto h = new_handle();
  EXPECT_EQ(nbd_supports_uri(h.get()), NBDREF_URI_BUILT ? 1 : 0);
}

}  // namespace
}  // namespace nbdref::test
