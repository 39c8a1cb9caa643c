#include "player_test_support.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include <gtest/gtest.h>

#include "script/parser.hpp"

namespace nbdref::mock::test {

script::Script parse(std::string_view text) {
  auto s = script::parse_script(text);
  if (!s) {
    ADD_FAILURE() << s.error().describe("test script");
    return {};
  }
  return *s;
}

Golden& Golden::u8(std::uint8_t v) {
  out_.push_back(v);
  return *this;
}
Golden& Golden::u16(std::uint16_t v) {
  return u8(static_cast<std::uint8_t>(v >> 8)).u8(static_cast<std::uint8_t>(v));
}
Golden& Golden::u32(std::uint32_t v) {
  return u16(static_cast<std::uint16_t>(v >> 16)).u16(static_cast<std::uint16_t>(v));
}
Golden& Golden::u64(std::uint64_t v) {
  return u32(static_cast<std::uint32_t>(v >> 32)).u32(static_cast<std::uint32_t>(v));
}
Golden& Golden::bytes(const ByteVector& b) {
  out_.insert(out_.end(), b.begin(), b.end());
  return *this;
}
Golden& Golden::text(std::string_view s) {
  out_.insert(out_.end(), s.begin(), s.end());
  return *this;
}
Golden& Golden::zeros(std::size_t n) {
  out_.insert(out_.end(), n, 0);
  return *this;
}

ByteVector client_flags(std::uint32_t flags) {
  return Golden().u32(flags);
}

ByteVector option(std::uint32_t opt, const ByteVector& data) {
  return Golden().u64(IHAVEOPT).u32(opt).u32(static_cast<std::uint32_t>(data.size())).bytes(data);
}

ByteVector go_data(std::string_view name, std::vector<std::uint16_t> infos) {
  Golden g;
  g.u32(static_cast<std::uint32_t>(name.size())).text(name);
  g.u16(static_cast<std::uint16_t>(infos.size()));
  for (auto i : infos) g.u16(i);
  return g;
}

ByteVector compact_request(std::uint16_t flags, std::uint16_t type, std::uint64_t cookie,
                           std::uint64_t offset, std::uint32_t length) {
  return Golden().u32(0x25609513).u16(flags).u16(type).u64(cookie).u64(offset).u32(length);
}

ByteVector extended_request(std::uint16_t flags, std::uint16_t type, std::uint64_t cookie,
                            std::uint64_t offset, std::uint64_t length) {
  return Golden().u32(0x21e41c71).u16(flags).u16(type).u64(cookie).u64(offset).u64(length);
}

ByteVector concat(std::initializer_list<ByteVector> parts) {
  ByteVector out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// ---- RawClient ----

namespace {

// Whether `fd` became readable before `limit` passed.
bool readable(int fd, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() < 0) return false;
    pollfd p{fd, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return false;
  }
}

}  // namespace

void RawClient::send(const ByteVector& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ADD_FAILURE() << "the client could not send: " << std::strerror(errno);
      return;
    }
    done += static_cast<std::size_t>(n);
  }
}

ByteVector RawClient::read(std::size_t n, std::chrono::milliseconds limit) {
  ByteVector out(n);
  std::size_t got = 0;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (got < n) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !readable(fd_, left)) break;
    const ssize_t r = ::read(fd_, out.data() + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<std::size_t>(r);
  }
  if (got < n) ADD_FAILURE() << "the client got " << got << " of " << n << " bytes";
  out.resize(got);
  return out;
}

ByteVector RawClient::read_once(std::chrono::milliseconds limit) {
  if (!readable(fd_, limit)) return {};
  ByteVector out(1 << 16);
  const ssize_t r = ::read(fd_, out.data(), out.size());
  out.resize(r > 0 ? static_cast<std::size_t>(r) : 0);
  return out;
}

bool RawClient::sees_eof(std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  std::uint8_t buf[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() < 0 || !readable(fd_, left)) return false;
    const ssize_t r = ::read(fd_, buf, sizeof buf);
    if (r == 0) return true;
    if (r < 0 && errno != EINTR) return errno == ECONNRESET;
  }
}

void RawClient::shutdown_write() {
  ::shutdown(fd_, SHUT_WR);
}

Verdict verdict_of(InProcessServer& server, std::chrono::milliseconds limit) {
  auto v = server.wait(limit);
  if (!v) {
    ADD_FAILURE() << "the player is still playing after " << limit.count() << "ms";
    return Verdict{Verdict::Outcome::Timeout, "still playing", {}};
  }
  return *v;
}

Exchange converse(const script::Script& script, const ByteVector& client_bytes,
                  PlayOptions options) {
  InProcessServer server(script, std::move(options));
  RawClient client(server);
  client.send(client_bytes);
  client.shutdown_write();
  Exchange e;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ADD_FAILURE() << "the server never closed the connection";
      break;
    }
    if (!readable(server.client_fd(), left)) continue;
    std::uint8_t buf[65536];
    const ssize_t r = ::read(server.client_fd(), buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    e.sent.insert(e.sent.end(), buf, buf + r);
  }
  e.verdict = verdict_of(server);
  e.transcript = server.transcript().text();
  return e;
}

// ---- RecordingChannel ----

ReadResult RecordingChannel::read_some(std::span<std::uint8_t> out, Clock::time_point deadline) {
  reads_after_writes.push_back(writes.size());
  ReadResult r;
  if (input_.empty()) {
    if (eof_) {
      r.status = ReadResult::Status::Eof;
    } else {
      std::this_thread::sleep_until(std::min(deadline, Clock::now() + 10s));
      r.status = ReadResult::Status::Timeout;
    }
    return r;
  }
  while (r.count < out.size() && !input_.empty()) {
    out[r.count++] = input_.front();
    input_.pop_front();
  }
  return r;
}

bool RecordingChannel::write_all(std::span<const std::uint8_t> data, std::string& error) {
  if (closed) {
    error = "closed";
    return false;
  }
  writes.push_back({ByteVector(data.begin(), data.end()), Clock::now()});
  return true;
}

ByteVector RecordingChannel::all_written() const {
  ByteVector out;
  for (const auto& w : writes) out.insert(out.end(), w.bytes.begin(), w.bytes.end());
  return out;
}

}  // namespace nbdref::mock::test
