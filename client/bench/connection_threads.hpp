// Runs one job per connection, each on a thread of its own, and waits for
// all of them. Multi-conn workloads run the same loop on every connection
// this way, under both libraries.
#pragma once

#include <functional>

namespace nbdref::bench {

// Calls job(0) ... job(count - 1) in parallel. When a job throws, the error
// is printed and the program ends with status 1 once every job is over:
// connections may still have requests in flight whose buffers are gone, so
// they are left to the operating system rather than shut down.
void run_per_connection(unsigned count, const std::function<void(unsigned)>& job);

}  // namespace nbdref::bench
