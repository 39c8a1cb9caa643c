// Connecting, as a non-blocking state machine: each connect method is a
// Connector that the handle steps, polling fd() for POLLOUT whenever a step
// reports InProgress, until it has a connected socket. So an asynchronous
// connect never waits on the network; only the TCP name lookup blocks, as in
// libnbd.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "error/error.hpp"
#include "transport/subprocess.hpp"
#include "transport/tcp_address.hpp"
#include "transport/unique_fd.hpp"

namespace nbdref::transport {

struct ConnectProgress {
  enum class State { Connected, InProgress, Failed };
  State state;
  // When Failed: the system's errno and a message naming what was tried.
  Error error;

  static ConnectProgress connected() { return {State::Connected, {}}; }
  static ConnectProgress in_progress() { return {State::InProgress, {}}; }
  static ConnectProgress failed(int errnum, std::string message) {
    return {State::Failed, {errnum, std::move(message)}};
  }
};

class Connector {
 public:
  virtual ~Connector() = default;

  // Starts connecting, or continues after fd() polled writable. Once
  // Connected or Failed, further steps repeat that outcome.
  virtual ConnectProgress step() = 0;
  // The socket being connected, or -1 when there is none: before the attempt
  // starts, after a failure, after take_socket().
  virtual int fd() const = 0;
  // The connected socket, once step() has returned Connected; empty before.
  virtual UniqueFd take_socket() = 0;
  // The child serving the connection; only connect_command and
  // connect_systemd_socket_activation have one.
  virtual std::unique_ptr<Subprocess> take_subprocess() { return nullptr; }
  // What is being connected to, for messages: "unix:/tmp/sock",
  // "tcp:localhost:10809", "command: nbdkit -s memory 1G", "vsock:2:10809".
  virtual std::string describe() const = 0;
  // The host name the caller gave (connect_tcp), against which a TLS
  // server's certificate is checked; empty for every other transport.
  virtual std::string host_name() const { return {}; }
};

// A Unix-domain stream socket. A path beginning with '\0' names Linux's
// abstract namespace (every byte of it counts). Fails with ENAMETOOLONG when
// the path does not fit a socket address, EINVAL when it is empty or a
// filesystem path contains '\0', else with connect(2)'s errno.
std::unique_ptr<Connector> connect_unix(std::string path);

// A TCP connection to every address `host` resolves to (see resolve_tcp), in
// order, until one accepts; an empty port means 10809. Fails when
// resolution fails, or when every address failed: then with the errno of
// the last attempt and a message listing each address and its error.
std::unique_ptr<Connector> connect_tcp(std::string host, std::string port);

// The same as connect_tcp for addresses resolved elsewhere; `target` names
// them in messages. An empty list fails with EINVAL.
std::unique_ptr<Connector> connect_tcp_addresses(std::string target,
                                                 std::vector<TcpAddress> addresses);

// Adopts an already-connected stream socket (closing it when done with it).
// Fails at the first step with getsockopt's errno (ENOTSOCK, EBADF) when fd
// is not a socket, or EINVAL when it is not a stream socket.
std::unique_ptr<Connector> connect_socket(int fd);

// Runs argv (argv[0] looked up in PATH) with one end of a socket pair as its
// stdin and stdout, and connects to the other end. Fails with EINVAL for an
// empty argv, or with the errno of starting the program, named in the message.
std::unique_ptr<Connector> connect_command(std::vector<std::string> argv);

// Runs argv (argv[0] looked up in PATH) as systemd's socket activation would:
// it gets a Unix socket, already listening in a private temporary directory,
// as descriptor 3, announced by LISTEN_PID, LISTEN_FDS=1 and
// LISTEN_FDNAMES=nbd in its environment; we connect to that socket. The
// directory goes with the Subprocess and is removed after the child has been
// reaped. Fails with EINVAL for an empty argv, or with the errno of creating
// the directory or socket or of starting the program, named in the message.
std::unique_ptr<Connector> connect_systemd_socket_activation(std::vector<std::string> argv);

// An AF_VSOCK stream connection to `port` of the virtual machine or host
// `cid` (VMADDR_CID_HOST is the host, VMADDR_CID_LOCAL this machine). Fails
// with EAFNOSUPPORT, saying so, when the kernel has no vsock support, else
// with connect(2)'s errno (ETIMEDOUT, ECONNRESET, ENODEV...).
std::unique_ptr<Connector> connect_vsock(std::uint32_t cid, std::uint32_t port);

// Whether this kernel can create vsock sockets at all; whether a given CID
// can be reached is only found out by connecting.
bool vsock_supported();

}  // namespace nbdref::transport
