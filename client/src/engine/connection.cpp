#include "engine/connection.hpp"

#include <algorithm>
#include <cstring>

namespace nbdref::engine {

Connection::Connection(ConnectionConfig config)
    : core_(std::move(config)), negotiator_(core_), issuer_(core_), reader_(core_) {}

std::span<std::uint8_t> Connection::input_space() {
  if (core_.phase == Phase::Ready) {
    auto direct = reader_.direct_target();
    if (!direct.empty()) {
      direct_input_ = true;
      return direct;
    }
  }
  direct_input_ = false;
  if (core_.phase != Phase::Ready) return core_.input.space(negotiator_.bytes_wanted());
  const auto space = core_.input.space(reader_.bytes_wanted());
  return space.first(std::min(space.size(), reader_.buffered_read_limit()));
}

void Connection::input_received(std::size_t n) {
  core_.stats.bytes_received += n;
  if (direct_input_) {
    direct_input_ = false;
    reader_.direct_received(n);
  } else {
    core_.input.commit(n);
  }
  process();
}

void Connection::input_eof() {
  process();
  if (core_.phase == Phase::Ready) {
    reader_.on_eof();
  } else {
    negotiator_.on_eof();
  }
}

std::size_t Connection::feed(wire::Bytes data) {
  std::size_t taken = 0;
  while (taken < data.size() && core_.phase != Phase::Dead && core_.phase != Phase::Closed) {
    const auto space = input_space();
    // No room: the engine waits for something other than input (the TLS
    // handshake after STARTTLS), so the rest is the caller's to keep.
    if (space.empty()) break;
    const std::size_t n = std::min(space.size(), data.size() - taken);
    std::memcpy(space.data(), data.data() + taken, n);
    taken += n;
    input_received(n);
  }
  return taken;
}

std::size_t Connection::negotiation_bytes_missing() const {
  if (core_.phase != Phase::Handshaking && core_.phase != Phase::Negotiating) return 0;
  const std::size_t wanted = negotiator_.bytes_wanted();
  return wanted > core_.input.size() ? wanted - core_.input.size() : 0;
}

std::vector<std::uint8_t> Connection::take_unread_input() {
  const auto bytes = core_.input.peek(core_.input.size());
  std::vector<std::uint8_t> out(bytes.begin(), bytes.end());
  core_.input.consume(out.size());
  return out;
}

void Connection::tls_established() {
  negotiator_.on_tls_established();
  process();
}

void Connection::process() {
  bool progress = true;
  while (progress) {
    switch (core_.phase) {
      case Phase::Handshaking:
      case Phase::Negotiating:
        progress = negotiator_.step();
        break;
      case Phase::Ready:
        progress = reader_.step();
        break;
      case Phase::Dead:
      case Phase::Closed:
        progress = false;
        break;
    }
  }
}

void Connection::output_sent(std::size_t n) {
  core_.output.consume(n);
  core_.stats.bytes_sent += n;
  // C-TX-023: nothing follows NBD_CMD_DISC, so once it is out the
  // conversation is over unless replies are still due.
  if (core_.phase == Phase::Ready && core_.disconnect_sent && core_.output.empty() &&
      core_.commands.empty()) {
    core_.phase = Phase::Closed;
  }
}

std::vector<std::uint8_t> Connection::take_output() {
  std::vector<std::uint8_t> out;
  iovec segments[64];
  while (has_output()) {
    const std::size_t count = output_segments(segments);
    std::size_t total = 0;
    for (std::size_t i = 0; i < count; ++i) {
      const auto* p = static_cast<const std::uint8_t*>(segments[i].iov_base);
      out.insert(out.end(), p, p + segments[i].iov_len);
      total += segments[i].iov_len;
    }
    output_sent(total);
  }
  return out;
}

}  // namespace nbdref::engine
