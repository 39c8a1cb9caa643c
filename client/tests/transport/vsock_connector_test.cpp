#include <linux/vm_sockets.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include "test_sockets.hpp"
#include "transport/connector.hpp"
#include "transport/socket_stream.hpp"

namespace nbdref::transport {
namespace {

using State = ConnectProgress::State;
using test::drive;

// Where nothing should listen when this machine cannot give us a free port.
constexpr std::uint32_t kUnlikelyPort = 3'999'999'999;

sockaddr_vm vsock_address(std::uint32_t cid, std::uint32_t port) {
  sockaddr_vm address{};
  address.svm_family = AF_VSOCK;
  address.svm_cid = cid;
  address.svm_port = port;
  return address;
}

// A vsock socket bound to a free port of this machine (VMADDR_CID_LOCAL), or
// empty with errno set when there is no loopback transport (the
// vsock_loopback module) to bind it with.
UniqueFd bind_local_vsock() {
  UniqueFd s(socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const sockaddr_vm address = vsock_address(VMADDR_CID_LOCAL, VMADDR_PORT_ANY);
  if (!s || bind(s.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == -1) {
    return UniqueFd();
  }
  return s;
}

std::uint32_t vsock_port(int fd) {
  sockaddr_vm address{};
  socklen_t length = sizeof address;
  EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0) << strerror(errno);
  return address.svm_port;
}

TEST(VsockSupported, AgreesWithADirectSocketProbe) {
  UniqueFd probe(socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0));
  EXPECT_EQ(vsock_supported(), static_cast<bool>(probe)) << strerror(errno);
}

TEST(VsockDescribe, NamesCidAndPort) {
  EXPECT_EQ(connect_vsock(2, 10809)->describe(), "vsock:2:10809");
  EXPECT_EQ(connect_vsock(VMADDR_CID_LOCAL, 4'294'967'294)->describe(), "vsock:1:4294967294");
}

// Needs a kernel with vsock, which some lack.
class VsockConnect : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!vsock_supported()) {
      const UniqueFd probe(socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0));  // for its errno
      GTEST_SKIP() << "this kernel has no vsock support: socket(AF_VSOCK): " << strerror(errno);
    }
  }
};

TEST_F(VsockConnect, UnusedPortFailsWithAnErrnoNamingTheTarget) {
  // With the loopback transport, a bound socket that never listens makes
  // the port certainly unused and the refusal immediate. Without it, CID 1
  // goes out through whatever transport there is (a VM's host, say), and
  // the attempt ends in a refusal or, after the kernel's connect timeout, ETIMEDOUT.
  UniqueFd holder = bind_local_vsock();
  const std::uint32_t port = holder ? vsock_port(holder.get()) : kUnlikelyPort;
  auto connector = connect_vsock(VMADDR_CID_LOCAL, port);
  const std::string target = "vsock:1:" + std::to_string(port);
  EXPECT_EQ(connector->describe(), target);
  EXPECT_EQ(connector->fd(), -1);  // nothing happens before the first step

  const ConnectProgress progress = drive(*connector);
  ASSERT_EQ(progress.state, State::Failed);
  EXPECT_NE(progress.error.errnum, 0);
  EXPECT_NE(progress.error.message.find(target), std::string::npos) << progress.error.message;
  EXPECT_EQ(connector->fd(), -1);
  EXPECT_FALSE(connector->take_socket());
  EXPECT_EQ(connector->step().error.errnum, progress.error.errnum);  // the outcome stays put
  EXPECT_EQ(connector->take_subprocess(), nullptr);
}

// Also needs the loopback transport, to listen on this machine.
class VsockLoopback : public VsockConnect {
 protected:
  void SetUp() override {
    VsockConnect::SetUp();
    if (IsSkipped()) return;
    listener_ = bind_local_vsock();
    if (!listener_) {
      GTEST_SKIP() << "no vsock loopback transport (is the vsock_loopback module loaded?): "
                   << "bind to VMADDR_CID_LOCAL: " << strerror(errno);
    }
    ASSERT_EQ(listen(listener_.get(), 8), 0) << strerror(errno);
  }
  UniqueFd listener_;
};

TEST_F(VsockLoopback, ConnectsToAListenerOnThisMachine) {
  auto connector = connect_vsock(VMADDR_CID_LOCAL, vsock_port(listener_.get()));
  const ConnectProgress progress = drive(*connector);
  ASSERT_EQ(progress.state, State::Connected) << progress.error.message;
  UniqueFd server = test::accept_within(listener_.get());
  ASSERT_TRUE(server);
  auto stream = make_socket_stream(connector->take_socket());
  EXPECT_EQ(connector->fd(), -1);
  ASSERT_EQ(send(server.get(), "ok", 2, 0), 2);
  EXPECT_EQ(test::read_exactly(*stream, 2), "ok");
}

}  // namespace
}  // namespace nbdref::transport
