#include "transport/socket_directory.hpp"

#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <utility>
#include <vector>

namespace nbdref::transport {
namespace {

constexpr char kTemplate[] = "/nbdref-XXXXXX";
constexpr char kSocketName[] = "/sock";

// The folder to create the directory in. A long TMPDIR is common (on some
// systems it is per-session and deep), but a socket path must fit the 108
// bytes of sun_path, NUL included; /tmp always leaves room.
std::string temporary_folder() {
  const char* tmpdir = std::getenv("TMPDIR");
  if (tmpdir == nullptr || tmpdir[0] != '/') return "/tmp";
  const std::string folder = tmpdir;
  const std::size_t socket_path_size = folder.size() + sizeof kTemplate - 1 + sizeof kSocketName;
  if (socket_path_size > sizeof(sockaddr_un::sun_path)) return "/tmp";
  return folder;
}

}  // namespace

Result<SocketDirectory> SocketDirectory::create() {
  const std::string pattern = temporary_folder() + kTemplate;
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  if (::mkdtemp(name.data()) == nullptr) {
    const int err = errno;
    return failure(err, with_strerror("cannot create a temporary directory " + pattern, err));
  }
  return SocketDirectory(name.data());
}

SocketDirectory::SocketDirectory(std::string path)
    : path_(std::move(path)), socket_path_(path_ + kSocketName) {}

SocketDirectory::SocketDirectory(SocketDirectory&& other) noexcept
    : path_(std::exchange(other.path_, {})), socket_path_(std::exchange(other.socket_path_, {})) {}

SocketDirectory& SocketDirectory::operator=(SocketDirectory&& other) noexcept {
  if (this != &other) {
    remove();
    path_ = std::exchange(other.path_, {});
    socket_path_ = std::exchange(other.socket_path_, {});
  }
  return *this;
}

SocketDirectory::~SocketDirectory() {
  remove();
}

void SocketDirectory::remove() {
  if (path_.empty()) return;
  // Failures are left alone: the socket may never have been bound, and a
  // destructor has nobody to report to.
  ::unlink(socket_path_.c_str());
  ::rmdir(path_.c_str());
  path_.clear();
  socket_path_.clear();
}

}  // namespace nbdref::transport
