#include "connection_pool.hpp"

#include <utility>

namespace nbdref::mock::cli {

ConnectionPool::ConnectionPool(const script::Script& script, std::chrono::milliseconds timeout,
                               Reporting reporting)
    : script_(script), reporting_(reporting) {
  options_.default_timeout = timeout;
  options_.disks = std::make_shared<ExportStore>();
}

ConnectionPool::~ConnectionPool() {
  wait_all();
}

void ConnectionPool::start(std::unique_ptr<Channel> channel) {
  std::lock_guard lock(mutex_);
  reap_finished();
  const std::uint64_t number = ++started_;
  auto& slot = running_.emplace_back();
  slot.thread = std::thread([this, &slot, number, ch = std::move(channel)] {
    play_one(*ch, number);
    ch->close();
    std::lock_guard done(mutex_);
    slot.finished = true;
  });
}

void ConnectionPool::run_here(Channel& channel) {
  std::uint64_t number;
  {
    std::lock_guard lock(mutex_);
    number = ++started_;
  }
  play_one(channel, number);
}

void ConnectionPool::play_one(Channel& channel, std::uint64_t number) {
  Transcript transcript;
  PlayOptions options = options_;
  if (reporting_.transcript) options.transcript = &transcript;
  const Verdict verdict = play(script_, channel, options);

  std::lock_guard lock(mutex_);
  if (!verdict.passed()) all_passed_ = false;
  *reporting_.verdicts << "nbdref-mock: connection " << number << ": "
                       << (verdict.passed() ? "" : "FAILED: ") << verdict.describe() << '\n'
                       << std::flush;
  if (reporting_.transcript) {
    *reporting_.transcript << "== connection " << number << " ==\n"
                           << transcript.text(reporting_.transcript_bytes) << std::flush;
  }
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
