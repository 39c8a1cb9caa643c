#include "handshake_recording.hpp"

#include <algorithm>

#include "handshake_client.hpp"
#include "handshake_setup.hpp"

namespace nbdref::fuzz::recorder {

Recording record_handshake(ServerLink& link, const std::array<std::uint8_t, 4>& config,
                           std::chrono::milliseconds quiet) {
  FuzzInput in(config);
  const handshake::Setup setup = handshake::read_setup(in);
  HandshakeClient client(setup);
  const std::vector<std::uint8_t> stream = client.negotiate(link, quiet);

  Recording r;
  r.summary = ending(client.connection());
  // Played as the target plays it, the stream must end the connection the
  // same way; and taking the client's output after each byte, as the
  // conversation took it after each read, it must make the client send
  // the same bytes -- or more, when the connection died: a dying engine
  // drops what it has not sent, and bytes that came in one read may have
  // killed it before its answer to the first of them went out.
  HandshakeClient as_target(setup);
  HandshakeClient sending(setup);
  for (const std::uint8_t byte : stream) {
    as_target.deliver({&byte, 1});
    sending.deliver({&byte, 1});
    sending.take_output();
  }
  const auto& replayed = sending.sent();
  const auto& recorded = client.sent();
  const bool same_sent =
      replayed == recorded ||
      (client.phase() == engine::Phase::Dead && replayed.size() > recorded.size() &&
       std::equal(recorded.begin(), recorded.end(), replayed.begin()));
  if (!same_sent) {
    r.problem = "the replay sends other bytes than the client sent (" +
                std::to_string(sending.sent().size()) + " against " +
                std::to_string(client.sent().size()) + ")";
  } else if (ending(as_target.connection()) != r.summary) {
    r.problem =
        "the replay ends " + ending(as_target.connection()) + ", the conversation " + r.summary;
  } else {
    r.seed.assign(config.begin(), config.end());
    r.seed.insert(r.seed.end(), stream.begin(), stream.end());
  }
  return r;
}

}  // namespace nbdref::fuzz::recorder
