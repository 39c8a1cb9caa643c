// The client of the "handshake" fuzz target, driven by the target's rules
// (handshake.cpp, HandshakeRun): the engine configured by the four
// configuration bytes; after each piece of the server's stream, the next
// configured option whenever the engine waits for the caller; a TLS
// handshake that succeeds at once. The recorder drives it against a
// server, then again against the recorded stream alone, one byte at a
// time as the target does, to prove the seed replays the conversation.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <vector>

#include "engine/connection.hpp"
#include "handshake_setup.hpp"
#include "server_link.hpp"
#include "wire/bytes.hpp"

namespace nbdref::fuzz::recorder {

class HandshakeClient {
 public:
  explicit HandshakeClient(const handshake::Setup& setup);

  // The server sent `piece`.
  void deliver(wire::Bytes piece);
  // What the client has to send since the last call (also kept in sent()).
  std::vector<std::uint8_t> take_output();
  // Talks with the server over `link` until finished(), the server closes
  // or it is quiet for `quiet`; returns every byte the server sent.
  std::vector<std::uint8_t> negotiate(ServerLink& link, std::chrono::milliseconds quiet);

  // Nothing more can come of the server's bytes: the connection ended,
  // reached transmission, or waits for an option the configuration does
  // not have.
  bool finished() const;
  engine::Phase phase() const { return conn_.phase(); }
  const engine::Connection& connection() const { return conn_; }
  engine::Connection& connection() { return conn_; }
  // Everything the client sent so far.
  const std::vector<std::uint8_t>& sent() const { return sent_; }

 private:
  class OptionDone : public engine::OptionListener {
   public:
    void on_option_complete(const Result<void>&) override {}
  };

  void establish_tls();
  void start_waiting_options();

  const handshake::Setup& setup_;
  engine::Connection conn_;
  std::size_t next_option_ = 0;
  std::deque<OptionDone> listeners_;  // one per option started, never moved
  std::vector<std::uint8_t> outbox_;  // taken from the engine, not yet handed out
  std::vector<std::uint8_t> sent_;
};

}  // namespace nbdref::fuzz::recorder
