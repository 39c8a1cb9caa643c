#include "connection_pool.hpp"

#include <utility>

namespace nbdref::mock::cli {

ConnectionPool::ConnectionPool(ConnectionHandler handler) : handler_(std::move(handler)) {}

ConnectionPool::~ConnectionPool() {
  wait_all();
}

std::uint64_t ConnectionPool::next_number() {
  std::lock_guard lock(mutex_);
  return ++started_;
}

void ConnectionPool::start(std::unique_ptr<Channel> channel) {
  std::lock_guard lock(mutex_);
  reap_finished();
  const std::uint64_t number = ++started_;
  auto& slot = running_.emplace_back();
  slot.thread = std::thread([this, &slot, number, ch = std::move(channel)] {
    serve_one(*ch, number);
    ch->close();
    std::lock_guard done(mutex_);
    slot.finished = true;
  });
}

void ConnectionPool::run_here(Channel& channel) {
  serve_one(channel, next_number());
}

void ConnectionPool::serve_one(Channel& channel, std::uint64_t number) {
  const bool passed = handler_(channel, number);
  std::lock_guard lock(mutex_);
  if (!passed) all_passed_ = false;
}

// Joins threads whose connections ended, so a server that runs for days
// does not collect them. Called with mutex_ held.
void ConnectionPool::reap_finished() {
  for (auto it = running_.begin(); it != running_.end();) {
    if (it->finished) {
      it->thread.join();
      it = running_.erase(it);
    } else {
      ++it;
    }
  }
}

bool ConnectionPool::wait_all() {
  std::list<Running> joining;
  {
    std::lock_guard lock(mutex_);
    joining.swap(running_);
  }
  for (Running& r : joining) r.thread.join();
  std::lock_guard lock(mutex_);
  return all_passed_;
}

}  // namespace nbdref::mock::cli
