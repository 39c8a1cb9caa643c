// A private temporary directory holding the path of one Unix socket, for a
// server we start ourselves. Destroying it removes the socket file and the
// directory, so nothing is left behind in the temporary folder.
#pragma once

#include <string>

#include "error/error.hpp"

namespace nbdref::transport {

class SocketDirectory {
 public:
  // Makes a new directory (mode 0700, by mkdtemp) under $TMPDIR, or under
  // /tmp when TMPDIR is unset, relative, or so long that the socket path
  // would not fit a Unix socket address. Fails with mkdtemp's errno.
  static Result<SocketDirectory> create();

  SocketDirectory(SocketDirectory&& other) noexcept;
  SocketDirectory& operator=(SocketDirectory&& other) noexcept;
  SocketDirectory(const SocketDirectory&) = delete;
  SocketDirectory& operator=(const SocketDirectory&) = delete;
  // Removes socket_path() and then the directory. Anything else somebody put
  // in there stays, and with it the directory: we delete only what we made.
  ~SocketDirectory();

  const std::string& path() const { return path_; }
  // Where to bind the socket; short enough for sockaddr_un's sun_path.
  const std::string& socket_path() const { return socket_path_; }

 private:
  explicit SocketDirectory(std::string path);
  void remove();

  std::string path_;  // empty once moved from
  std::string socket_path_;
};

}  // namespace nbdref::transport
