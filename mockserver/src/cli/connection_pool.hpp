// The connections of one nbdref-mock run, each served on a thread of its
// own by the run's handler (a script player or the relay), numbered from
// 1 in the order they were accepted.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <thread>

#include "server/channel.hpp"

namespace nbdref::mock::cli {

// Serves one connection; returns whether it went as it should.
using ConnectionHandler = std::function<bool(Channel& channel, std::uint64_t number)>;

class ConnectionPool {
 public:
  explicit ConnectionPool(ConnectionHandler handler);
  // Waits for every connection.
  ~ConnectionPool();

  // Serves `channel` on a new thread.
  void start(std::unique_ptr<Channel> channel);
  // Serves `channel` on this thread.
  void run_here(Channel& channel);
  // Waits for every connection started; true when all went as they should.
  bool wait_all();

 private:
  struct Running {
    std::thread thread;
    bool finished = false;
  };

  std::uint64_t next_number();
  void serve_one(Channel& channel, std::uint64_t number);
  void reap_finished();

  ConnectionHandler handler_;
  std::mutex mutex_;  // guards everything below
  std::uint64_t started_ = 0;
  bool all_passed_ = true;
  std::list<Running> running_;
};

}  // namespace nbdref::mock::cli
