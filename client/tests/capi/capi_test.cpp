// The C API's own behaviour: errors, settings, states, callbacks' lifetimes,
// connect methods and thread safety. The server is nbdkit run with
// nbd_connect_command, so every test has a fresh one.
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <libnbd.h>

#include "support/nbdkit_server.hpp"
#include "support/temp_dir.hpp"

namespace nbdref::test {
namespace {

struct HandleCloser {
  void operator()(nbd_handle* h) const { nbd_close(h); }
};
using HandlePtr = std::unique_ptr<nbd_handle, HandleCloser>;

HandlePtr make_handle() {
  HandlePtr h(nbd_create());
  EXPECT_NE(h, nullptr) << nbd_get_error();
  return h;
}

// nbdkit serving `size` bytes of memory on our stdin/stdout.
int connect_nbdkit(nbd_handle* h, const char* size = "1M", const char* pidfile = nullptr) {
  std::vector<std::string> args{"nbdkit", "-s", "--exit-with-parent"};
  if (pidfile) {
    args.push_back("--pidfile");
    args.push_back(pidfile);
  }
  args.push_back("memory");
  args.push_back(size);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return nbd_connect_command(h, argv.data());
}

TEST(CApiErrors, NoErrorBeforeAnyFailureInAThread) {
  std::thread([] {
    EXPECT_EQ(nbd_get_error(), nullptr);
    EXPECT_EQ(nbd_get_errno(), 0);
  }).join();
}

TEST(CApiErrors, ErrorsAreThreadLocalAndNameTheFunction) {
  auto h = make_handle();
  EXPECT_EQ(nbd_get_size(h.get()), -1);
  EXPECT_EQ(nbd_get_errno(), ENOTCONN);
  EXPECT_EQ(std::strncmp(nbd_get_error(), "nbd_get_size: ", 14), 0) << nbd_get_error();
  std::thread([] { EXPECT_EQ(nbd_get_error(), nullptr); }).join();
}

TEST(CApiErrors, NullPointersAreEfault) {
  auto h = make_handle();
  EXPECT_EQ(nbd_set_export_name(h.get(), nullptr), -1);
  EXPECT_EQ(nbd_get_errno(), EFAULT);
  EXPECT_EQ(nbd_connect_unix(h.get(), nullptr), -1);
  EXPECT_EQ(nbd_get_errno(), EFAULT);
  EXPECT_EQ(nbd_add_meta_context(h.get(), nullptr), -1);
  EXPECT_EQ(nbd_get_errno(), EFAULT);
}

TEST(CApiErrors, CloseAcceptsNull) {
  nbd_close(nullptr);
}

TEST(CApiSettings, DefaultsMatchLibnbd) {
  auto h = make_handle();
  EXPECT_EQ(nbd_get_strict_mode(h.get()), LIBNBD_STRICT_MASK);
  EXPECT_EQ(nbd_get_handshake_flags(h.get()), LIBNBD_HANDSHAKE_FLAG_MASK);
  EXPECT_EQ(nbd_get_request_structured_replies(h.get()), 1);
  EXPECT_EQ(nbd_get_request_block_size(h.get()), 1);
  EXPECT_EQ(nbd_get_full_info(h.get()), 0);
  EXPECT_EQ(nbd_get_pread_initialize(h.get()), 1);
  EXPECT_EQ(nbd_get_nr_meta_contexts(h.get()), 0);
  EXPECT_STREQ(nbd_connection_state(h.get()), "created");
  EXPECT_STREQ(nbd_get_package_name(h.get()), "nbdref");
  EXPECT_NE(nbd_get_version(h.get()), nullptr);
  EXPECT_EQ(nbd_supports_tls(h.get()), NBDREF_TLS_BUILT ? 1 : 0);
  EXPECT_EQ(nbd_supports_uri(h.get()), NBDREF_URI_BUILT ? 1 : 0);
  char* name = nbd_get_handle_name(h.get());
  ASSERT_NE(name, nullptr);
  EXPECT_EQ(std::strncmp(name, "nbd", 3), 0) << name;
  std::free(name);
}

TEST(CApiSettings, ValuesRoundTrip) {
  auto h = make_handle();
  ASSERT_EQ(nbd_set_export_name(h.get(), "exp"), 0);
  char* e = nbd_get_export_name(h.get());
  EXPECT_STREQ(e, "exp");
  std::free(e);
  ASSERT_EQ(nbd_set_handle_name(h.get(), "mine"), 0);
  char* n = nbd_get_handle_name(h.get());
  EXPECT_STREQ(n, "mine");
  std::free(n);
  EXPECT_EQ(nbd_set_private_data(h.get(), 42), 0u);
  EXPECT_EQ(nbd_set_private_data(h.get(), 7), 42u);
  EXPECT_EQ(nbd_get_private_data(h.get()), 7u);
  ASSERT_EQ(nbd_add_meta_context(h.get(), "base:allocation"), 0);
  ASSERT_EQ(nbd_add_meta_context(h.get(), "qemu:dirty-bitmap:b"), 0);
  EXPECT_EQ(nbd_get_nr_meta_contexts(h.get()), 2);
  char* c = nbd_get_meta_context(h.get(), 1);
  EXPECT_STREQ(c, "qemu:dirty-bitmap:b");
  std::free(c);
  EXPECT_EQ(nbd_get_meta_context(h.get(), 2), nullptr);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_clear_meta_contexts(h.get()), 0);
  EXPECT_EQ(nbd_get_nr_meta_contexts(h.get()), 0);
  EXPECT_EQ(nbd_set_strict_mode(h.get(), LIBNBD_STRICT_BOUNDS), 0);
  EXPECT_EQ(nbd_get_strict_mode(h.get()), LIBNBD_STRICT_BOUNDS);
}

TEST(CApiSettings, InvalidValuesAreRefused) {
  auto h = make_handle();
  EXPECT_EQ(nbd_set_handshake_flags(h.get(), 4), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_set_strict_mode(h.get(), 0x20), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  // C-GEN-003: no string over 4096 bytes goes on the wire.
  const std::string long_name(4097, 'x');
  EXPECT_EQ(nbd_set_export_name(h.get(), long_name.c_str()), -1);
  EXPECT_EQ(nbd_get_errno(), ENAMETOOLONG);
  EXPECT_EQ(nbd_add_meta_context(h.get(), long_name.c_str()), -1);
  EXPECT_EQ(nbd_get_errno(), ENAMETOOLONG);
}

TEST(CApiStates, CommandsBeforeConnectingAreEnotconn) {
  auto h = make_handle();
  char buf[512];
  EXPECT_EQ(nbd_pread(h.get(), buf, sizeof buf, 0, 0), -1);
  EXPECT_EQ(nbd_get_errno(), ENOTCONN);
  EXPECT_EQ(nbd_can_flush(h.get()), -1);
  EXPECT_EQ(nbd_get_errno(), ENOTCONN);
  EXPECT_EQ(nbd_get_protocol(h.get()), nullptr);
}

TEST(CApiStates, SettingsFrozenOnceConnected) {
  auto h = make_handle();
  ASSERT_EQ(connect_nbdkit(h.get()), 0) << nbd_get_error();
  EXPECT_STREQ(nbd_connection_state(h.get()), "ready");
  EXPECT_EQ(nbd_set_export_name(h.get(), "other"), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_set_request_structured_replies(h.get(), false), -1);
  EXPECT_EQ(connect_nbdkit(h.get()), -1);  // a handle connects once
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_get_block_size(h.get(), 3), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
}

TEST(CApiStates, FailedConnectLeavesTheHandleDead) {
  auto h = make_handle();
  TempDir dir;
  EXPECT_EQ(nbd_connect_unix(h.get(), dir.file("nobody-listens").c_str()), -1);
  EXPECT_EQ(nbd_get_errno(), ENOENT);
  EXPECT_NE(std::strstr(nbd_get_error(), "nobody-listens"), nullptr) << nbd_get_error();
  EXPECT_STREQ(nbd_connection_state(h.get()), "dead");
  char buf[1];
  EXPECT_EQ(nbd_pread(h.get(), buf, 1, 0, 0), -1);
}

TEST(CApiStates, ShutdownCloses) {
  auto h = make_handle();
  ASSERT_EQ(connect_nbdkit(h.get()), 0);
  EXPECT_EQ(nbd_shutdown(h.get(), 0), 0) << nbd_get_error();
  EXPECT_STREQ(nbd_connection_state(h.get()), "closed");
  char buf[512];
  EXPECT_EQ(nbd_pread(h.get(), buf, sizeof buf, 0, 0), -1);
  EXPECT_EQ(nbd_shutdown(h.get(), 0), -1);  // nothing left to end
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  auto fresh = make_handle();
  EXPECT_EQ(nbd_shutdown(fresh.get(), 1), -1);  // unknown flag
  EXPECT_EQ(nbd_get_errno(), EINVAL);
}

TEST(CApiConnect, CommandSubprocessIsKilledAndReapedOnClose) {
  TempDir dir;
  const auto pidfile = dir.file("nbdkit.pid");
  pid_t pid = 0;
  {
    auto h = make_handle();
    ASSERT_EQ(connect_nbdkit(h.get(), "1M", pidfile.c_str()), 0) << nbd_get_error();
    std::ifstream(pidfile) >> pid;
    ASSERT_GT(pid, 0);
    EXPECT_EQ(kill(pid, 0), 0);
  }
  // Reaped, not a zombie: the pid is gone entirely.
  EXPECT_EQ(kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

TEST(CApiConnect, ExistingSocket) {
  NbdkitServer server(NbdkitServer::Options{"memory", {"size=1M"}, {}, false, Transport::Tcp});
  auto h0 = make_handle();
  // Connect a socket ourselves and hand it over.
  ASSERT_EQ(nbd_connect_socket(h0.get(), connect_to(server.endpoint()).release()), 0)
      << nbd_get_error();
  EXPECT_EQ(nbd_get_size(h0.get()), 1 << 20);
  // A pipe is not a socket.
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  auto h1 = make_handle();
  EXPECT_EQ(nbd_connect_socket(h1.get(), p[0]), -1);
  close(p[1]);
}

TEST(CApiConnect, TcpByHostName) {
  NbdkitServer server(NbdkitServer::Options{"memory", {"size=1M"}, {}, false, Transport::Tcp});
  auto h = make_handle();
  ASSERT_EQ(nbd_connect_tcp(h.get(), "localhost", server.endpoint().port.c_str()), 0)
      << nbd_get_error();
  EXPECT_EQ(nbd_get_size(h.get()), 1 << 20);
}

struct DebugLog {
  std::vector<std::string> contexts;
  int frees = 0;
};

int record_debug(void* user_data, const char* context, const char*) {
  static_cast<DebugLog*>(user_data)->contexts.emplace_back(context);
  return 0;
}
void count_free(void* user_data) {
  ++static_cast<DebugLog*>(user_data)->frees;
}

TEST(CApiDebug, CallbackSeesTheRunningFunctionAndIsFreedOnce) {
  DebugLog first, second;
  {
    auto h = make_handle();
    ASSERT_EQ(nbd_set_debug(h.get(), true), 0);
    ASSERT_EQ(nbd_set_debug_callback(h.get(), {record_debug, &first, count_free}), 0);
    ASSERT_EQ(nbd_set_debug_callback(h.get(), {record_debug, &second, count_free}), 0);
    EXPECT_EQ(first.frees, 1);  // replaced: freed at once
    ASSERT_EQ(connect_nbdkit(h.get()), 0);
    EXPECT_EQ(second.frees, 0);
  }
  EXPECT_EQ(second.frees, 1);  // freed when the handle closed
  ASSERT_FALSE(second.contexts.empty());
  EXPECT_EQ(second.contexts.front(), "nbd_connect_command");
}

TEST(CApiDebug, NothingIsLoggedWhenDebugIsOff) {
  DebugLog log;
  auto h = make_handle();
  ASSERT_EQ(nbd_set_debug(h.get(), false), 0);
  ASSERT_EQ(nbd_set_debug_callback(h.get(), {record_debug, &log, nullptr}), 0);
  ASSERT_EQ(connect_nbdkit(h.get()), 0);
  EXPECT_TRUE(log.contexts.empty());
}

TEST(CApiDebug, EnvironmentTurnsDebugOn) {
  ::setenv("LIBNBD_DEBUG", "1", 1);
  auto h = make_handle();
  ::unsetenv("LIBNBD_DEBUG");
  EXPECT_EQ(nbd_get_debug(h.get()), 1);
  auto quiet = make_handle();
  EXPECT_EQ(nbd_get_debug(quiet.get()), 0);
}

struct Chunks {
  int calls = 0;
  int frees = 0;
  int fail_with = 0;
};

int on_chunk(void* user_data, const void*, size_t, uint64_t, unsigned status, int* error) {
  auto* c = static_cast<Chunks*>(user_data);
  ++c->calls;
  EXPECT_TRUE(status == LIBNBD_READ_DATA || status == LIBNBD_READ_HOLE);
  if (c->fail_with) {
    *error = c->fail_with;
    return -1;
  }
  return 0;
}
void free_chunks(void* user_data) {
  ++static_cast<Chunks*>(user_data)->frees;
}

TEST(CApiCallbacks, ChunkCallbackRunsAndIsFreedOnce) {
  auto h = make_handle();
  ASSERT_EQ(connect_nbdkit(h.get()), 0);
  std::vector<char> buf(65536);
  Chunks c;
  ASSERT_EQ(
      nbd_pread_structured(h.get(), buf.data(), buf.size(), 0, {on_chunk, &c, free_chunks}, 0), 0)
      << nbd_get_error();
  EXPECT_GE(c.calls, 1);
  EXPECT_EQ(c.frees, 1);
}

TEST(CApiCallbacks, FailingChunkCallbackFailsTheReadWithItsErrno) {
  auto h = make_handle();
  ASSERT_EQ(connect_nbdkit(h.get()), 0);
  std::vector<char> buf(4096);
  Chunks c;
  c.fail_with = EBADMSG;
  EXPECT_EQ(
      nbd_pread_structured(h.get(), buf.data(), buf.size(), 0, {on_chunk, &c, free_chunks}, 0), -1);
  EXPECT_EQ(nbd_get_errno(), EBADMSG);
  EXPECT_EQ(c.frees, 1);
  // The connection is fine.
  EXPECT_EQ(nbd_pread(h.get(), buf.data(), buf.size(), 0, 0), 0);
}

TEST(CApiCallbacks, CallbackIsFreedEvenWhenTheCallFailsEarly) {
  auto h = make_handle();
  Chunks c;
  EXPECT_EQ(nbd_pread_structured(h.get(), nullptr, 1, 0, {on_chunk, &c, free_chunks}, 0), -1);
  EXPECT_EQ(nbd_get_errno(), EFAULT);
  EXPECT_EQ(c.frees, 1);
  EXPECT_EQ(nbd_block_status(h.get(), 1, 0, {nullptr, &c, free_chunks}, 0), -1);
  EXPECT_EQ(c.frees, 2);
}

// A lock makes every call on one handle safe from several threads.
TEST(CApiThreads, ConcurrentCallsOnOneHandle) {
  auto h = make_handle();
  ASSERT_EQ(connect_nbdkit(h.get(), "16M"), 0);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<char> out(4096), in(4096);
      for (int i = 0; i < 200; ++i) {
        const std::uint64_t off = (std::uint64_t(t) * 200 + i) * 4096;
        std::memset(out.data(), t * 16 + i % 16, out.size());
        if (nbd_pwrite(h.get(), out.data(), out.size(), off, 0) != 0 ||
            nbd_pread(h.get(), in.data(), in.size(), off, 0) != 0 || in != out) {
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures, 0);
}

}  // namespace
}  // namespace nbdref::test

namespace nbdref::test {
namespace {

TEST(CApiConnect, SystemdSocketActivationWithQemuNbd) {
  TempDir dir;
  const auto image = dir.create_sparse_file("disk.img", 2 << 20);
  for (bool async : {false, true}) {
    auto h = make_handle();
    std::vector<std::string> args{"qemu-nbd", "-f", "raw", "-x", "disk", image};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ASSERT_EQ(nbd_set_export_name(h.get(), "disk"), 0);
    if (async) {
      ASSERT_EQ(nbd_aio_connect_systemd_socket_activation(h.get(), argv.data()), 0)
          << nbd_get_error();
      while (nbd_aio_is_connecting(h.get())) ASSERT_GE(nbd_poll(h.get(), 5000), 0);
    } else {
      ASSERT_EQ(nbd_connect_systemd_socket_activation(h.get(), argv.data()), 0)
          << nbd_get_error();
    }
    EXPECT_EQ(nbd_get_size(h.get()), 2 << 20);
    char buf[512];
    EXPECT_EQ(nbd_pread(h.get(), buf, sizeof buf, 0, 0), 0) << nbd_get_error();
  }
}

TEST(CApiConnect, VsockFailsCleanlyWithoutAListener) {
  auto h = make_handle();
  // Port 1 of the local CID: nothing listens there in a test machine.
  EXPECT_EQ(nbd_connect_vsock(h.get(), 1, 1), -1);
  EXPECT_NE(nbd_get_errno(), 0);
  EXPECT_NE(std::strstr(nbd_get_error(), "vsock"), nullptr) << nbd_get_error();
  EXPECT_STREQ(nbd_connection_state(h.get()), "dead");
  const int probe = ::socket(AF_VSOCK, SOCK_STREAM, 0);
  EXPECT_EQ(nbd_supports_vsock(h.get()), probe >= 0 ? 1 : 0);
  if (probe >= 0) ::close(probe);
}

}  // namespace
}  // namespace nbdref::test
