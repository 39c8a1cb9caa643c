// Wall-clock time and this process's CPU time (getrusage(RUSAGE_SELF): every
// thread, user and system) around the measured part of a run, so the figure
// is the client library's own cost and not the server's.
#pragma once

#include <chrono>

namespace nbdref::bench {

struct ResourceUse {
  double wall_seconds = 0;
  double user_seconds = 0;
  double system_seconds = 0;
  long voluntary_switches = 0;    // the process waited (in poll, read, ...)
  long involuntary_switches = 0;  // the scheduler took the CPU away

  double cpu_seconds() const { return user_seconds + system_seconds; }
};

class ResourceMeter {
 public:
  // Starts measuring now.
  ResourceMeter();
  // What was used since construction.
  ResourceUse elapsed() const;
  std::chrono::steady_clock::time_point started() const { return wall_; }

 private:
  std::chrono::steady_clock::time_point wall_;
  double user_;
  double system_;
  long voluntary_;
  long involuntary_;
};

}  // namespace nbdref::bench
