#include "engine/connection_core.hpp"

#include <cerrno>
#include <utility>

#include "wire/limits.hpp"
#include "wire/request.hpp"

namespace nbdref::engine {

const char* phase_name(Phase p) {
  switch (p) {
    case Phase::Handshaking:
      return "handshaking";
    case Phase::Negotiating:
      return "negotiating";
    case Phase::Ready:
      return "ready";
    case Phase::Dead:
      return "dead";
    case Phase::Closed:
      return "closed";
  }
  return "unknown";
}

void ConnectionCore::die(Error e) {
  if (phase == Phase::Dead || phase == Phase::Closed) return;
  output.clear();
  die_after_flush(std::move(e));
}

void ConnectionCore::die_after_flush(Error e) {
  if (phase == Phase::Dead || phase == Phase::Closed) return;
  if (debugging()) debug("connection dead: " + e.message);
  phase = Phase::Dead;
  error = e;
  // Every command still in flight fails with the reason the connection died.
  for (Command* c : commands.all()) {
    c->record_error(e.errnum, e.message);
    complete(*c);
  }
  if (auto* listener = std::exchange(option_listener, nullptr)) {
    listener->on_option_complete(tl::unexpected(e));
  }
}

void ConnectionCore::violation(const std::string& what, const char* clause) {
  std::string message = "protocol violation by the server: " + what;
  // A decode error's text already ends with its clause: name it once.
  const std::string cited = clause ? std::string("[") + clause + "]" : std::string();
  if (clause && message.find(cited) == std::string::npos) message += " " + cited;
  die(Error{EPROTO, std::move(message)});
}

void ConnectionCore::complete(Command& c) {
  CommandOutcome outcome{c.cookie, c.errnum, std::move(c.error_message)};
  CommandListener* listener = c.request.listener;
  commands.remove(c);
  if (listener) listener->on_complete(outcome);
  maybe_send_disconnect();
}

void ConnectionCore::maybe_send_disconnect() {
  if (!disconnect_requested || disconnect_sent || !commands.empty()) return;
  if (phase != Phase::Ready) return;
  // C-TX-007 (proto.md "Terminating the transmission phase"): DISC goes out
  // once nothing is in flight; C-TX-024: its offset and length are zero.
  const wire::RequestHeader disc{0, wire::NBD_CMD_DISC, next_cookie++, 0, 0};
  if (session.extended_headers) {
    wire::encode_extended_request(disc, output.append(wire::EXTENDED_REQUEST_SIZE));
  } else {
    wire::encode_compact_request(disc, output.append(wire::COMPACT_REQUEST_SIZE));
  }
  disconnect_sent = true;
  ++stats.chunks_sent;
  debug("sent NBD_CMD_DISC");
}

}  // namespace nbdref::engine
