// A scripted server on a thread of the test's own process, over a
// socketpair: the test connects its client to client_fd() and, once the
// conversation is over, asks for the verdict.
#pragma once

#include <chrono>
#include <future>
#include <optional>
#include <thread>

#include "script/step.hpp"
#include "server/player.hpp"

namespace nbdref::mock {

class InProcessServer {
 public:
  // Starts playing at once, on a thread of its own. The transcript goes to
  // options.transcript when given, else to transcript(); options.stop is
  // replaced by the thread's own. Once the play is over the server's end is
  // shut down both ways, so the client sees the connection close. Throws
  // std::system_error when no socketpair can be made.
  explicit InProcessServer(script::Script script, PlayOptions options = {});
  // Never hangs: stops the player (a pause or gap ends at once), shuts the
  // server's end down (a blocked read or write returns), joins the thread
  // and closes both ends (the client's unless released).
  ~InProcessServer();
  InProcessServer(const InProcessServer&) = delete;
  InProcessServer& operator=(const InProcessServer&) = delete;

  // The client's end of the socketpair, still owned by this object.
  int client_fd() const { return client_fd_; }
  // Hands the client's end over (the caller closes it); -1 afterwards.
  int release_client_fd();

  // The verdict once the player has finished, waiting at most `limit`;
  // nullopt when it is still playing then. May be called again.
  std::optional<Verdict> wait(std::chrono::milliseconds limit = std::chrono::seconds(30));

  const Transcript& transcript() const { return transcript_; }

 private:
  int client_fd_ = -1;
  int server_fd_ = -1;
  Transcript transcript_;
  std::future<Verdict> verdict_;
  std::optional<Verdict> done_;
  std::jthread player_;
};

}  // namespace nbdref::mock
