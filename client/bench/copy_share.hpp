// Copy mode: one connection pair's part of a whole-export copy. Each of
// `in_flight` buffers goes round: nbd_aio_pread from the source, then
// nbd_aio_pwrite of the same bytes to the destination, then the next block;
// one poll loop drives both handles.
#pragma once

#include <libnbd.h>

#include <cstdint>

#include "workload_share.hpp"

namespace nbdref::bench {

struct CopyRange {
  std::uint64_t begin;
  std::uint64_t end;
};

// Copies [range.begin, range.end) in requests of at most `block_size`
// bytes. ShareTally::requests counts reads and writes. Throws
// std::runtime_error when a request fails.
ShareTally run_copy_share(nbd_handle* source, nbd_handle* destination, CopyRange range,
                          std::uint64_t block_size, unsigned in_flight);

}  // namespace nbdref::bench
