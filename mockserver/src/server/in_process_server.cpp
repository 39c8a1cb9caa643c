#include "server/in_process_server.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <exception>
#include <system_error>
#include <utility>

#include "server/channel.hpp"

namespace nbdref::mock {

InProcessServer::InProcessServer(script::Script script, PlayOptions options) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    throw std::system_error(errno, std::generic_category(), "socketpair");
  }
  client_fd_ = fds[0];
  server_fd_ = fds[1];
  if (!options.transcript) options.transcript = &transcript_;
  std::promise<Verdict> promise;
  verdict_ = promise.get_future();
  player_ = std::jthread([fd = server_fd_, script = std::move(script), options = std::move(options),
                          promise = std::move(promise)](std::stop_token stop) mutable {
    options.stop = std::move(stop);
    // Not owned: the descriptor is closed after the join, so the destructor
    // can shut it down while the player may still use it.
    FdChannel channel(fd, fd, false);
    Verdict v;
    try {
      v = play(script, channel, options);
    } catch (const std::exception& e) {
      v = Verdict{Verdict::Outcome::ScriptError, std::string("the player failed: ") + e.what(), {}};
    }
    channel.close();  // shutdown(SHUT_RDWR): the client sees the end
    promise.set_value(std::move(v));
  });
}

InProcessServer::~InProcessServer() {
  player_.request_stop();
  if (server_fd_ >= 0) ::shutdown(server_fd_, SHUT_RDWR);
  if (player_.joinable()) player_.join();
  if (server_fd_ >= 0) ::close(server_fd_);
  if (client_fd_ >= 0) ::close(client_fd_);
}

int InProcessServer::release_client_fd() {
  return std::exchange(client_fd_, -1);
}

std::optional<Verdict> InProcessServer::wait(std::chrono::milliseconds limit) {
  if (done_) return done_;
  if (verdict_.valid() && verdict_.wait_for(limit) == std::future_status::ready) {
    done_ = verdict_.get();
  }
  return done_;
}

}  // namespace nbdref::mock
