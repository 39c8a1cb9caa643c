// One connection's share of an asynchronous workload: up to `in_flight`
// requests outstanding at all times, issued with nbd_aio_pread or
// nbd_aio_pwrite and reported back by their completion callbacks, until the
// share's requests are done or its deadline passes; then what is in flight
// is waited for.
#pragma once

#include <libnbd.h>

#include "workload_share.hpp"

namespace nbdref::bench {

// Throws std::runtime_error when a request fails or read data is not the
// pattern (with verify); requests may then still be in flight.
ShareTally run_async_share(nbd_handle* handle, WorkloadShare share, unsigned in_flight);

}  // namespace nbdref::bench
