// qemu-nbd (7.2) for interop tests: serves one raw image under one export
// name, on a Unix socket or a loopback TCP port, to up to 8 clients at once,
// and keeps running between clients. Stopped with its process group on
// destruction.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "support/endpoint.hpp"
#include "support/foreground_server.hpp"
#include "support/temp_dir.hpp"

namespace nbdref::test {

class QemuNbdServer {
 public:
  struct Options {
    // Size of the sparse raw image created in the server's own directory.
    std::uint64_t size = std::uint64_t{64} << 20;
    // Serve this existing file instead; `size` is then ignored.
    std::string image_path{};
    std::string export_name = "disk";  // -x; qemu-nbd serves no other name
    bool read_only = false;            // -r
    // --discard=unmap: trims punch holes in the image. qemu-nbd 7.2 advertises
    // NBD_FLAG_SEND_TRIM on writable exports either way, and without this
    // option silently ignores trims.
    bool discard = false;
    // Server options placed before the image file name.
    std::vector<std::string> extra_args{};
    Transport transport = Transport::UnixSocket;
  };

  // Runs
  //   qemu-nbd -f raw -x NAME -t -e 8 [-r] [--discard=unmap]
  //            (-k SOCK | -b 127.0.0.1 -p PORT) EXTRA_ARGS... IMAGE
  // and returns once it listens. Throws std::runtime_error (with the command
  // line and qemu-nbd's output) when it exits first or is not ready in time.
  QemuNbdServer() : QemuNbdServer(Options{}) {}
  explicit QemuNbdServer(Options options);

  const Endpoint& endpoint() const { return server_.endpoint; }
  const Options& options() const { return options_; }
  const std::string& export_name() const { return options_.export_name; }
  const std::string& image_path() const { return image_path_; }
  // Size of the served image in bytes, as the server reports it.
  std::uint64_t size() const { return size_; }
  bool read_only() const { return options_.read_only; }
  pid_t pid() const { return server_.process.pid(); }
  std::string command_line() const { return server_.process.command_line(); }
  // What qemu-nbd has printed so far (stdout and stderr).
  std::string output() const { return server_.process.output(); }

  // Stops qemu-nbd now instead of at destruction; true when nothing is left
  // of its process group.
  bool stop() { return server_.process.stop(); }

 private:
  Options options_;
  TempDir dir_;  // the socket, qemu-nbd.log and the created image
  std::string image_path_;
  std::uint64_t size_ = 0;
  ForegroundServer server_;
};

}  // namespace nbdref::test
