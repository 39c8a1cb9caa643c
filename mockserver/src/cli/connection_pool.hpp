// The connections of one nbdref-mock run: each plays the script from its
// start on its own thread, shares the run's disks, and reports its verdict
// (and its transcript, if asked) when it ends.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <ostream>
#include <thread>

#include "script/step.hpp"
#include "server/channel.hpp"
#include "server/export_store.hpp"
#include "server/player.hpp"

namespace nbdref::mock::cli {

struct Reporting {
  std::ostream* verdicts;    // one line per connection
  std::ostream* transcript;  // nullptr: none kept
  bool transcript_bytes = false;
};

class ConnectionPool {
 public:
  ConnectionPool(const script::Script& script, std::chrono::milliseconds timeout,
                 Reporting reporting);
  // Waits for every connection.
  ~ConnectionPool();

  // Plays the script on `channel` on a new thread.
  void start(std::unique_ptr<Channel> channel);
  // Plays the script on `channel` on this thread.
  void run_here(Channel& channel);
  // Waits for every connection started; true when all completed the script.
  bool wait_all();

 private:
  struct Running {
    std::thread thread;
    bool finished = false;
  };

  void play_one(Channel& channel, std::uint64_t number);
  void reap_finished();

  const script::Script& script_;
  PlayOptions options_;
  Reporting reporting_;
  std::mutex mutex_;  // guards everything below and the report streams
  std::uint64_t started_ = 0;
  bool all_passed_ = true;
  std::list<Running> running_;
};

}  // namespace nbdref::mock::cli
