#include "handshake_client.hpp"

namespace nbdref::fuzz::recorder {

using engine::Phase;

HandshakeClient::HandshakeClient(const handshake::Setup& setup)
    : setup_(setup), conn_(setup.config) {}

void HandshakeClient::deliver(wire::Bytes piece) {
  for (;;) {
    piece = piece.subspan(conn_.feed(piece));
    // feed() stops taking input while the engine waits for TLS; what is
    // left goes in once the handshake is done.
    if (conn_.tls_requested()) establish_tls();
    if (piece.empty() || conn_.phase() == Phase::Dead || conn_.phase() == Phase::Closed) break;
  }
  start_waiting_options();
}

void HandshakeClient::establish_tls() {
  const auto out = conn_.take_output();
  outbox_.insert(outbox_.end(), out.begin(), out.end());
  const auto unread = conn_.take_unread_input();
  conn_.tls_established();
  if (!unread.empty()) deliver(unread);
}

void HandshakeClient::start_waiting_options() {
  while (conn_.phase() == Phase::Negotiating && next_option_ < setup_.options.size()) {
    auto& listener = listeners_.emplace_back();
    (void)conn_.start_option({setup_.options[next_option_++], {}, &listener});
  }
}

std::vector<std::uint8_t> HandshakeClient::take_output() {
  std::vector<std::uint8_t> out = std::move(outbox_);
  outbox_.clear();
  const auto more = conn_.take_output();
  out.insert(out.end(), more.begin(), more.end());
  sent_.insert(sent_.end(), out.begin(), out.end());
  return out;
}

std::vector<std::uint8_t> HandshakeClient::negotiate(ServerLink& link,
                                                     std::chrono::milliseconds quiet) {
  std::vector<std::uint8_t> stream;
  for (;;) {
    const auto out = take_output();
    if (!out.empty()) link.send(out);
    if (finished()) break;
    const auto received = link.receive(quiet);
    if (!received || received->empty()) break;
    stream.insert(stream.end(), received->begin(), received->end());
    deliver(*received);
  }
  return stream;
}

bool HandshakeClient::finished() const {
  switch (conn_.phase()) {
    case Phase::Handshaking:
      return false;
    case Phase::Negotiating:
      return next_option_ == setup_.options.size();
    default:
      return true;
  }
}

}  // namespace nbdref::fuzz::recorder
