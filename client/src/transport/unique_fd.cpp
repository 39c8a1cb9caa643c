#include "transport/unique_fd.hpp"

#include <unistd.h>

namespace nbdref::transport {

void UniqueFd::reset(int fd) {
  const int old = std::exchange(fd_, fd);
  // No retry on EINTR: Linux releases the descriptor even then, and a second
  // close could hit a descriptor another thread has just been given.
  if (old >= 0) ::close(old);
}

}  // namespace nbdref::transport
