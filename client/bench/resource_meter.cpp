// getrusage and the monotonic clock, read at both ends of a run.
#include "resource_meter.hpp"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace nbdref::bench {
namespace {

double seconds_of(const timeval& t) {
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
}

rusage process_usage() {
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) != 0) {
    throw std::runtime_error(std::string("getrusage: ") + std::strerror(errno));
  }
  return usage;
}

}  // namespace

ResourceMeter::ResourceMeter() {
  const rusage usage = process_usage();
  user_ = seconds_of(usage.ru_utime);
  system_ = seconds_of(usage.ru_stime);
  voluntary_ = usage.ru_nvcsw;
  involuntary_ = usage.ru_nivcsw;
  wall_ = std::chrono::steady_clock::now();
}

ResourceUse ResourceMeter::elapsed() const {
  const auto now = std::chrono::steady_clock::now();
  const rusage usage = process_usage();
  ResourceUse use;
  use.wall_seconds = std::chrono::duration<double>(now - wall_).count();
  use.user_seconds = seconds_of(usage.ru_utime) - user_;
  use.system_seconds = seconds_of(usage.ru_stime) - system_;
  use.voluntary_switches = usage.ru_nvcsw - voluntary_;
  use.involuntary_switches = usage.ru_nivcsw - involuntary_;
  return use;
}

}  // namespace nbdref::bench
