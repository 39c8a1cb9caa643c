// One connection's share of a synchronous workload: nbd_pread or nbd_pwrite,
// one request at a time, each call timed -- the latency a program sees
// from the library's blocking API.
#pragma once

#include <libnbd.h>

#include <cstdint>
#include <vector>

#include "workload_share.hpp"

namespace nbdref::bench {

// Appends the time of every call, in nanoseconds, to `latencies_ns`.
// Throws std::runtime_error when a request fails or read data is not the
// pattern (with verify).
ShareTally run_sync_share(nbd_handle* handle, WorkloadShare share,
                          std::vector<std::uint64_t>& latencies_ns);

}  // namespace nbdref::bench
