// What nbdref-mock --relay --record DIR keeps of one relayed connection N:
//   DIR/conn-N.server.bin  every byte the server sent, in order
//   DIR/conn-N.client.bin  every byte the client sent, in order
//   DIR/conn-N.timeline    how the two interleaved, one line per read:
//                          "+0.000210 server 152", "+0.000391 client 16",
//                          "+0.052000 client end: closed" (seconds since
//                          the connection was accepted)
// The two byte files are exactly what crossed the relay, so each replays
// one side of a real conversation (the fuzz corpora are made from them).
#pragma once

#include <chrono>
#include <cstdint>
#include <fstream>
#include <mutex>
#include <span>
#include <string>

namespace nbdref::mock::relay {

enum class Side { Client, Server };

class ConversationRecording {
 public:
  // Creates the three files (DIR must exist); throws std::runtime_error
  // naming the file that cannot be written.
  ConversationRecording(const std::string& dir, std::uint64_t connection);

  // `side` sent `bytes`: appended to its file and to the timeline.
  void sent(Side side, std::span<const std::uint8_t> bytes);
  // `side` will send nothing more, and why ("closed", "reset: ...").
  void ended(Side side, const std::string& why);

  static std::string file_name(std::uint64_t connection, Side side);

 private:
  void stamp(Side side, const std::string& what);

  std::mutex mutex_;  // the two directions are relayed by two threads
  std::ofstream client_;
  std::ofstream server_;
  std::ofstream timeline_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace nbdref::mock::relay
