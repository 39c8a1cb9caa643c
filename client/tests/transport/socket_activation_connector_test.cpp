#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "private_tmpdir.hpp"
#include "test_sockets.hpp"
#include "transport/connector.hpp"
#include "transport/socket_stream.hpp"
#include "wire/constants.hpp"
#include "wire/handshake.hpp"

namespace nbdref::transport {
namespace {

namespace fs = std::filesystem;
using State = ConnectProgress::State;
using test::read_exactly;

// A started child with our connection to its socket. The members are
// declared so that the connection closes before the child is ended.
struct Activated {
  explicit Activated(std::vector<std::string> argv) {
    auto connector = connect_systemd_socket_activation(std::move(argv));
    const ConnectProgress progress = connector->step();
    EXPECT_EQ(progress.state, State::Connected) << progress.error.message;
    child = connector->take_subprocess();
    socket = connector->take_socket();
  }
  std::unique_ptr<Subprocess> child;
  UniqueFd socket;
};

// The path of the socket a connected Unix socket's peer is bound to.
std::string peer_path(int fd) {
  sockaddr_un address{};
  socklen_t length = sizeof address;
  EXPECT_EQ(getpeername(fd, reinterpret_cast<sockaddr*>(&address), &length), 0) << strerror(errno);
  return address.sun_path;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The contents of `path` once it exists; empty if it does not appear within kWaitMs.
std::string wait_for_file(const std::string& path) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(test::kWaitMs);
  while (!fs::exists(path)) {
    if (std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << path << " never appeared";
      return {};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return read_file(path);
}

// The line of /proc/net/unix for the socket with this inode, split in fields:
// Num RefCount Protocol Flags Type St Inode Path.
std::vector<std::string> unix_socket_fields(const std::string& inode) {
  std::istringstream table(read_file("/proc/net/unix"));
  for (std::string line; std::getline(table, line);) {
    std::istringstream words(line);
    std::vector<std::string> fields(std::istream_iterator<std::string>(words), {});
    if (fields.size() >= 7 && fields[6] == inode) return fields;
  }
  return {};
}

// Checks that descriptor 3 of process `pid` is a listening Unix stream
// socket bound to `socket_path`.
void expect_listening_at_descriptor_3(pid_t pid, const std::string& socket_path) {
  const fs::path fd3 = "/proc/" + std::to_string(pid) + "/fd/3";
  const std::string target = fs::read_symlink(fd3);
  ASSERT_EQ(target.rfind("socket:[", 0), 0u) << target;
  const std::string inode = target.substr(8, target.size() - 9);
  const std::vector<std::string> fields = unix_socket_fields(inode);
  ASSERT_EQ(fields.size(), 8u) << "socket " << inode << " is not in /proc/net/unix with a path";
  EXPECT_EQ(fields[3], "00010000") << "not listening";  // __SO_ACCEPTCON
  EXPECT_EQ(fields[4], "0001") << "not a stream socket";
  EXPECT_EQ(fields[7], socket_path);
}

// A field of /proc/PID/status read as a hexadecimal signal mask.
unsigned long long signal_mask(pid_t pid, const std::string& field) {
  std::istringstream status(read_file("/proc/" + std::to_string(pid) + "/status"));
  for (std::string line; std::getline(status, line);) {
    if (line.rfind(field + ":\t", 0) == 0) {
      return std::strtoull(line.c_str() + field.size() + 2, nullptr, 16);
    }
  }
  ADD_FAILURE() << "no " << field << " in /proc/" << pid << "/status";
  return 0;
}

unsigned long long bit(int signum) {
  return 1ULL << (signum - 1);
}

// Reads and checks the greeting a newstyle server sends first.
void expect_newstyle_greeting(UniqueFd socket) {
  auto stream = make_socket_stream(std::move(socket));
  const std::string greeting = read_exactly(*stream, 18);
  ASSERT_EQ(greeting.size(), 18u);
  const auto decoded = wire::decode_newstyle_greeting(
      std::span(reinterpret_cast<const std::uint8_t*>(greeting.data()), greeting.size()));
  ASSERT_TRUE(decoded) << decoded.error().to_string();
  EXPECT_NE(decoded->handshake_flags & wire::NBD_FLAG_FIXED_NEWSTYLE, 0u);
}

// Whether our child `pid` has not exited (looking without reaping it).
bool running(pid_t pid) {
  siginfo_t info{};
  return waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == 0;
}

void expect_reaped(pid_t pid) {
  errno = 0;
  EXPECT_EQ(kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

// A real server started by socket activation greets us; it is the child
// itself that serves (not a daemon it forked off), and ending the
// Subprocess ends it and removes its socket.
void expect_served_by(std::vector<std::string> argv) {
  Activated a(std::move(argv));
  ASSERT_NE(a.child, nullptr);
  const pid_t pid = a.child->pid();
  const std::string socket_path = peer_path(a.socket.get());
  expect_newstyle_greeting(std::move(a.socket));
  EXPECT_TRUE(running(pid));
  a.child.reset();
  expect_reaped(pid);
  EXPECT_FALSE(fs::exists(socket_path));
}

// TMPDIR points into the test's own folder, where the connector must leave
// nothing behind.
class SocketActivation : public ::testing::Test {
 protected:
  test::PrivateTmpdir tmpdir_;
};

TEST_F(SocketActivation, ChildGetsTheActivationVariablesInPlaceOfInheritedOnes) {
  setenv("LISTEN_PID", "1", 1);
  setenv("LISTEN_FDS", "7", 1);
  setenv("LISTEN_FDNAMES", "stale", 1);
  setenv("LISTEN_OTHER", "stale", 1);
  setenv("NBDREF_TEST_MARK", "kept", 1);
  // What the program itself sees ($$ is the pid of the shell we executed),
  // written to a file that appears whole, once complete, thanks to mv.
  const std::string report = tmpdir_.path() + "/report";
  Activated a(
      {"sh", "-c",
       "{ echo $$; env | grep '^LISTEN_' | LC_ALL=C sort; echo \"mark $NBDREF_TEST_MARK\"; }"
       " >\"$0.tmp\" && mv \"$0.tmp\" \"$0\"",
       report});
  for (const char* name : {"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", "LISTEN_OTHER"}) {
    unsetenv(name);
  }
  unsetenv("NBDREF_TEST_MARK");
  ASSERT_NE(a.child, nullptr);
  const std::string pid = std::to_string(a.child->pid());
  EXPECT_EQ(wait_for_file(report),
            pid + "\nLISTEN_FDNAMES=nbd\nLISTEN_FDS=1\nLISTEN_PID=" + pid + "\nmark kept\n");
}

TEST_F(SocketActivation, ChildHasTheListeningSocketAsDescriptor3) {
  Activated a({"sleep", "1000"});
  ASSERT_NE(a.child, nullptr);
  const std::string socket_path = peer_path(a.socket.get());
  EXPECT_EQ(socket_path.rfind(tmpdir_.path() + "/", 0), 0u) << socket_path;
  expect_listening_at_descriptor_3(a.child->pid(), socket_path);
}

TEST_F(SocketActivation, ListenerIsMovedToDescriptor3WhenItIsElsewhere) {
  // With 3 taken in this process, the listener gets a higher number and
  // must be copied down in the child; the other tests see it land on 3.
  UniqueFd null(open("/dev/null", O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(null) << strerror(errno);
  // The lowest free number from 3 up: 3 itself unless something holds it already.
  UniqueFd occupant(fcntl(null.get(), F_DUPFD_CLOEXEC, 3));
  ASSERT_NE(fcntl(3, F_GETFD), -1) << strerror(errno);
  Activated a({"sleep", "1000"});
  ASSERT_NE(a.child, nullptr);
  expect_listening_at_descriptor_3(a.child->pid(), peer_path(a.socket.get()));
}

TEST_F(SocketActivation, ChildStartsWithNoBlockedSignalsAndTheDefaultSigpipe) {
  struct sigaction ignore {};
  struct sigaction previous_action {};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(sigaction(SIGPIPE, &ignore, &previous_action), 0);
  sigset_t usr1;
  sigset_t previous_mask;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &usr1, &previous_mask), 0);

  Activated a({"sleep", "1000"});

  // Our own signal state is as it was.
  sigset_t now;
  ASSERT_EQ(pthread_sigmask(SIG_SETMASK, &previous_mask, &now), 0);
  EXPECT_TRUE(sigismember(&now, SIGUSR1));
  EXPECT_FALSE(sigismember(&now, SIGUSR2));
  struct sigaction current {};
  ASSERT_EQ(sigaction(SIGPIPE, &previous_action, &current), 0);
  EXPECT_EQ(current.sa_handler, SIG_IGN);

  ASSERT_NE(a.child, nullptr);
  EXPECT_EQ(signal_mask(a.child->pid(), "SigBlk"), 0u);
  EXPECT_EQ(signal_mask(a.child->pid(), "SigIgn") & bit(SIGPIPE), 0u);
}

TEST_F(SocketActivation, QemuNbdSendsItsGreeting) {
  const std::string disk = tmpdir_.path() + "/disk.raw";
  std::ofstream(disk).close();
  fs::resize_file(disk, 1 << 20);  // sparse
  expect_served_by({"qemu-nbd", "-f", "raw", "-x", "disk", "-t", disk});
}

TEST_F(SocketActivation, NbdkitSendsItsGreeting) {
  expect_served_by({"nbdkit", "--exit-with-parent", "memory", "1M"});
}

TEST_F(SocketActivation, DestroyingTheSubprocessReapsTheChildAndRemovesTheSocket) {
  Activated a({"sleep", "1000"});
  ASSERT_NE(a.child, nullptr);
  const pid_t pid = a.child->pid();
  const std::string socket_path = peer_path(a.socket.get());
  EXPECT_TRUE(fs::exists(socket_path));
  a.socket.reset();
  EXPECT_TRUE(fs::exists(socket_path)) << "the socket outlives our connection, not the child";
  a.child.reset();
  expect_reaped(pid);
  EXPECT_FALSE(fs::exists(socket_path));
  EXPECT_TRUE(tmpdir_.empty());
}

TEST_F(SocketActivation, DestroyingTheConnectorCleansUpWhatNobodyTook) {
  auto connector = connect_systemd_socket_activation({"sleep", "1000"});
  ASSERT_EQ(connector->step().state, State::Connected);
  const std::string socket_path = peer_path(connector->fd());
  EXPECT_TRUE(fs::exists(socket_path));
  connector.reset();
  EXPECT_FALSE(fs::exists(socket_path));
  EXPECT_TRUE(tmpdir_.empty());
}

TEST_F(SocketActivation, StepsRepeatTheOutcome) {
  auto connector = connect_systemd_socket_activation({"sleep", "1000"});
  EXPECT_EQ(connector->fd(), -1);  // nothing happens before the first step
  ASSERT_EQ(connector->step().state, State::Connected);
  EXPECT_GE(connector->fd(), 0);
  EXPECT_EQ(connector->step().state, State::Connected);
  EXPECT_NE(connector->take_subprocess(), nullptr);
  EXPECT_EQ(connector->take_subprocess(), nullptr);
}

TEST_F(SocketActivation, DescribeListsTheCommand) {
  EXPECT_EQ(connect_systemd_socket_activation({"qemu-nbd", "-f", "raw", "disk.img"})->describe(),
            "systemd socket activation: qemu-nbd -f raw disk.img");
}

TEST_F(SocketActivation, EmptyCommandFailsWithEinval) {
  auto connector = connect_systemd_socket_activation({});
  const ConnectProgress progress = connector->step();
  ASSERT_EQ(progress.state, State::Failed);
  EXPECT_EQ(progress.error.errnum, EINVAL);
  EXPECT_EQ(connector->take_subprocess(), nullptr);
  EXPECT_TRUE(tmpdir_.empty());
}

TEST_F(SocketActivation, MissingProgramFailsWithEnoentNamingIt) {
  auto connector = connect_systemd_socket_activation({"nbdref-no-such-program", "--flag"});
  const ConnectProgress progress = connector->step();
  ASSERT_EQ(progress.state, State::Failed);
  EXPECT_EQ(progress.error.errnum, ENOENT);
  EXPECT_NE(progress.error.message.find("nbdref-no-such-program"), std::string::npos)
      << progress.error.message;
  EXPECT_EQ(connector->fd(), -1);
  EXPECT_EQ(connector->take_subprocess(), nullptr);
  EXPECT_TRUE(tmpdir_.empty());
}

TEST_F(SocketActivation, UnexecutableFileFailsWithEacces) {
  // Not even root may execute a file without any execute permission.
  const std::string program = tmpdir_.path() + "/not-a-program";
  std::ofstream(program) << "#!/bin/sh\n";
  chmod(program.c_str(), 0644);
  const ConnectProgress progress = connect_systemd_socket_activation({program})->step();
  ASSERT_EQ(progress.state, State::Failed);
  EXPECT_EQ(progress.error.errnum, EACCES);
  EXPECT_NE(progress.error.message.find(program), std::string::npos) << progress.error.message;
}

TEST_F(SocketActivation, TmpdirThatDoesNotExistFailsNamingIt) {
  const std::string missing = tmpdir_.path() + "/missing";
  setenv("TMPDIR", missing.c_str(), 1);
  const ConnectProgress progress = connect_systemd_socket_activation({"sleep", "1000"})->step();
  ASSERT_EQ(progress.state, State::Failed);
  EXPECT_EQ(progress.error.errnum, ENOENT);
  EXPECT_NE(progress.error.message.find(missing), std::string::npos) << progress.error.message;
  EXPECT_NE(progress.error.message.find("systemd socket activation: sleep"), std::string::npos)
      << progress.error.message;
}

}  // namespace
}  // namespace nbdref::transport
