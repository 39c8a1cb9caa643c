// The moment by which a check must be over. Every wait of the probe is
// bounded by one, so a server that stops answering costs a check its time
// budget and never hangs the run.
#pragma once

#include <algorithm>
#include <chrono>

namespace nbdref::conform {

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Deadline(Clock::time_point at) : at_(at) {}
  static Deadline after(std::chrono::milliseconds budget) {
    return Deadline(Clock::now() + budget);
  }

  Clock::time_point at() const { return at_; }
  bool expired() const { return Clock::now() >= at_; }

  // Milliseconds left, rounded up so that poll(2) never wakes just before
  // the deadline and spins; 0 once it has passed.
  int poll_timeout_ms() const {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(at_ - Clock::now());
    return static_cast<int>(std::clamp<long long>(left.count(), 0, 1'000'000'000));
  }

  // This deadline, or `wait` from now if that comes first.
  Deadline capped(std::chrono::milliseconds wait) const {
    return Deadline(std::min(at_, Clock::now() + wait));
  }

 private:
  Clock::time_point at_;
};

}  // namespace nbdref::conform
