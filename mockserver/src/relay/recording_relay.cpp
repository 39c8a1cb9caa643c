#include "relay/recording_relay.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "relay/conversation_recording.hpp"

namespace nbdref::mock::relay {
namespace {

// How often a blocked direction looks whether the other one failed.
constexpr std::chrono::milliseconds TICK{100};
constexpr std::size_t BUFFER_SIZE = 64 * 1024;

// What both directions share while one connection is relayed.
struct Link {
  Channel& client;
  int server;
  std::optional<ConversationRecording>& recording;
  std::atomic<bool> failed{false};  // either direction failed: both stop

  void record(Side side, std::span<const std::uint8_t> bytes) {
    if (recording) recording->sent(side, bytes);
  }
  void record_end(Side side, const std::string& why) {
    if (recording) recording->ended(side, why);
  }
  // Ends both directions: the server's socket is shut down, which wakes a
  // blocked send, and the other direction sees `failed` within a TICK.
  std::string fail(std::string problem) {
    failed = true;
    ::shutdown(server, SHUT_RDWR);
    return problem;
  }
};

// Waits up to TICK for `events` on `fd`; false on a poll failure.
bool wait_tick(int fd, short events) {
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, static_cast<int>(TICK.count())) >= 0 || errno == EINTR;
}

// Sends all of `bytes` to the non-blocking server socket; empty, or what failed.
std::string send_to_server(Link& link, std::span<const std::uint8_t> bytes) {
  while (!bytes.empty()) {
    if (link.failed) return "stopped";
    const ssize_t n = ::send(link.server, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      bytes = bytes.subspan(static_cast<std::size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      if (!wait_tick(link.server, POLLOUT)) return std::strerror(errno);
    } else {
      return std::strerror(errno);
    }
  }
  return {};
}

// The client's bytes to the server, until the client ends; returns the
// problem, empty for an orderly close.
std::string client_to_server(Link& link, std::uint64_t& count) {
  std::vector<std::uint8_t> buffer(BUFFER_SIZE);
  for (;;) {
    if (link.failed) return {};
    const ReadResult r = link.client.read_some(buffer, Clock::now() + TICK);
    switch (r.status) {
      case ReadResult::Status::Timeout:
        continue;
      case ReadResult::Status::Data: {
        const std::span<const std::uint8_t> bytes(buffer.data(), r.count);
        link.record(Side::Client, bytes);
        count += r.count;
        const std::string problem = send_to_server(link, bytes);
        if (!problem.empty()) return link.fail("writing to the server: " + problem);
        continue;
      }
      case ReadResult::Status::Eof:
        link.record_end(Side::Client, "closed");
        ::shutdown(link.server, SHUT_WR);
        return {};
      case ReadResult::Status::Error:
        link.record_end(Side::Client, r.error);
        return link.fail("the client: " + r.error);
    }
  }
}

// The server's bytes to the client, until the server ends.
std::string server_to_client(Link& link, std::uint64_t& count) {
  std::vector<std::uint8_t> buffer(BUFFER_SIZE);
  for (;;) {
    if (link.failed) return {};
    const ssize_t n = ::recv(link.server, buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (n > 0) {
      const std::span<const std::uint8_t> bytes(buffer.data(), static_cast<std::size_t>(n));
      link.record(Side::Server, bytes);
      count += bytes.size();
      std::string error;
      if (!link.client.write_all(bytes, error)) return link.fail("writing to the client: " + error);
    } else if (n == 0) {
      link.record_end(Side::Server, "closed");
      link.client.shutdown_write();
      return {};
    } else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
      if (!wait_tick(link.server, POLLIN)) return link.fail(std::strerror(errno));
    } else {
      const std::string error = std::strerror(errno);
      link.record_end(Side::Server, error);
      return link.fail("the server: " + error);
    }
  }
}

}  // namespace

std::string RelayReport::describe() const {
  if (!connected) return problem;
  std::string text = "relayed " + std::to_string(client_bytes) + " bytes from the client and " +
                     std::to_string(server_bytes) + " from the server";
  if (!problem.empty()) text += "; " + problem;
  return text;
}

RelayReport relay_connection(Channel& client, std::uint64_t number, const RelayOptions& options) {
  RelayReport report;
  auto server = connect_target(options.target, options.connect_timeout);
  if (!server) {
    report.problem = server.error();
    return report;
  }
  report.connected = true;
  std::optional<ConversationRecording> recording;
  if (!options.record_dir.empty()) {
    try {
      recording.emplace(options.record_dir, number);
    } catch (const std::runtime_error& e) {
      report.problem = e.what();
      return report;
    }
  }
  Link link{client, server->get(), recording};
  std::string upstream_problem;
  std::thread upstream([&] { upstream_problem = client_to_server(link, report.client_bytes); });
  const std::string downstream_problem = server_to_client(link, report.server_bytes);
  upstream.join();
  report.problem = !upstream_problem.empty() ? upstream_problem : downstream_problem;
  return report;
}

}  // namespace nbdref::mock::relay
