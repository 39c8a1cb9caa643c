// The Stream over a plain connected socket.
#pragma once

#include <memory>

#include "transport/stream.hpp"
#include "transport/unique_fd.hpp"

namespace nbdref::transport {

// Takes ownership of the socket and switches it to non-blocking mode. Never
// fails: an unusable descriptor shows up as Failed(EBADF) at the first read
// or write. Reads and writes retry EINTR themselves.
std::unique_ptr<Stream> make_socket_stream(UniqueFd connected_socket);

}  // namespace nbdref::transport
