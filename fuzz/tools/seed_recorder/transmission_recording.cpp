#include "transmission_recording.hpp"

#include <algorithm>
#include <array>
#include <iterator>
#include <string_view>

#include "context_renumbering.hpp"
#include "handshake_client.hpp"
#include "transmission_client.hpp"
#include "transmission_input.hpp"
#include "transmission_setup.hpp"

namespace nbdref::fuzz::recorder {
namespace {

using namespace transmission;

// Where `name` is in META_CONTEXT_NAMES, or -1.
int context_index(std::string_view name) {
  for (std::size_t i = 0; i < std::size(META_CONTEXT_NAMES); ++i) {
    if (name == META_CONTEXT_NAMES[i]) return static_cast<int>(i);
  }
  return -1;
}

// Receives until `done` holds, the server closes or is quiet for `quiet`.
template <class Done>
void receive_until(ServerLink& link, TransmissionClient& client, bool& closed,
                   std::chrono::milliseconds quiet, Done done) {
  while (!closed && !client.ended() && !done()) {
    const auto received = link.receive(quiet);
    if (!received) return;
    if (received->empty()) {
      closed = true;
      return;
    }
    client.receive(*received);
  }
}

// The configuration bytes under which the target's handshake grants what
// the server granted, or why there are none.
tl::expected<std::array<std::uint8_t, CONFIG_BYTES>, std::string> terms_of(const engine::Session& s,
                                                                           std::uint8_t features) {
  const auto& info = s.export_info;
  const unsigned contexts = static_cast<unsigned>(s.meta_contexts.size());
  for (const auto& c : s.meta_contexts) {
    const int i = context_index(c.name);
    if (i < 0 || static_cast<unsigned>(i) >= contexts) {
      return tl::unexpected("context " + c.name + " is not among the target's first " +
                            std::to_string(contexts));
    }
  }
  const auto size = std::find(std::begin(SIZES), std::end(SIZES), info.size);
  if (size == std::end(SIZES)) {
    return tl::unexpected("export size " + std::to_string(info.size) +
                          " is none of the target's sizes");
  }
  const bool block_sizes = info.block_sizes && info.block_sizes->minimum == BLOCK_SIZES.minimum &&
                           info.block_sizes->preferred == BLOCK_SIZES.preferred &&
                           info.block_sizes->maximum == BLOCK_SIZES.maximum;
  std::uint8_t byte0 = features & (STRICT | PREAD_INITIALIZE | FAIL_CALLBACKS);
  if (s.structured_replies) byte0 |= STRUCTURED_REPLIES;
  if (s.extended_headers) byte0 |= EXTENDED_HEADERS;
  byte0 |= static_cast<std::uint8_t>(contexts << CONTEXT_COUNT_SHIFT);
  if (block_sizes) byte0 |= BLOCK_SIZES_ADVERTISED;
  const std::uint16_t flags = info.transmission_flags;
  return std::array<std::uint8_t, CONFIG_BYTES>{
      byte0, static_cast<std::uint8_t>(flags >> 8), static_cast<std::uint8_t>(flags & 0xff),
      static_cast<std::uint8_t>(size - std::begin(SIZES))};
}

}  // namespace

Recording record_transmission(ServerLink& link, handshake::Setup negotiation, std::uint8_t features,
                              const std::vector<PlanStep>& plan, std::chrono::milliseconds quiet) {
  Recording r;
  negotiation.config.strict = (features & STRICT) ? std::uint32_t{engine::STRICT_ALL} : 0u;
  negotiation.config.pread_initialize = features & PREAD_INITIALIZE;
  HandshakeClient handshake(negotiation);
  handshake.negotiate(link, quiet);
  engine::Connection& conn = handshake.connection();
  if (conn.phase() != engine::Phase::Ready) {
    r.problem = "no transmission: the handshake ended " + ending(conn);
    return r;
  }
  const auto config = terms_of(conn.session(), features);
  if (!config) {
    r.problem = "the target cannot say this handshake: " + config.error();
    return r;
  }
  FuzzInput config_input(*config);
  const Setup setup = read_setup(config_input);
  if (setup.flags != conn.session().export_info.transmission_flags) {
    r.problem = "the target would change the transmission flags";
    return r;
  }

  TransmissionClient client(setup, conn);
  bool closed = false;
  for (const PlanStep& step : plan) {
    switch (step.kind) {
      case PlanStep::Kind::Submit:
        client.submit(step.submit, false);
        break;
      case PlanStep::Kind::Wait:
        link.send(client.send());
        receive_until(link, client, closed, quiet, [&] { return client.in_flight() == 0; });
        break;
      case PlanStep::Kind::Disconnect:
        client.disconnect(step.abandon);
        link.send(client.send());
        receive_until(link, client, closed, quiet, [] { return false; });
        break;
    }
  }
  link.send(client.finish());
  r.summary = ending(conn);

  ContextIdMap ids;
  for (const auto& c : conn.session().meta_contexts) {
    ids.map(c.id, CONTEXT_IDS[context_index(c.name)]);
  }
  std::vector<std::uint8_t> stream = client.received();
  renumber_contexts(stream, client.commands(), conn.session().structured_replies, ids);
  const TransmissionInput input{{config->begin(), config->end()},
                                with_received(client.operations(), stream)};
  const auto seed = encode_transmission_input(input);

  engine::Connection replay_conn(setup.config());
  replay_conn.feed(setup.server_handshake());
  if (replay_conn.phase() != engine::Phase::Ready) {
    r.problem = "the target's handshake ends " + ending(replay_conn);
    return r;
  }
  replay_conn.take_output();
  TransmissionClient replay(setup, replay_conn);
  replay.play(decode_transmission_input(seed).operations);
  if (replay.sent() != client.sent()) {
    r.problem = "the replay sends other bytes than the client sent (" +
                std::to_string(replay.sent().size()) + " against " +
                std::to_string(client.sent().size()) + ")";
  } else if (replay.results() != client.results()) {
    r.problem = "a command comes out otherwise in the replay";
  } else if (replay_conn.phase() != conn.phase()) {
    r.problem = "the replay ends " + ending(replay_conn) + ", the conversation " + r.summary;
  } else {
    r.seed = seed;
  }
  return r;
}

}  // namespace nbdref::fuzz::recorder
