// What one connection does of a read or write workload -- which offsets,
// how many requests or until when -- and what it did.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "bench_options.hpp"
#include "offset_sequence.hpp"

namespace nbdref::bench {

struct WorkloadShare {
  Operation op;
  OffsetSequence offsets;
  std::uint64_t block_size;
  // A fixed number of requests (--bytes), else as many as fit before the deadline.
  std::optional<std::uint64_t> requests;
  std::chrono::steady_clock::time_point deadline;
  bool verify;  // writes carry the offset pattern, reads are checked against it
};

struct ShareTally {
  std::uint64_t requests = 0;
  std::uint64_t bytes = 0;
};

}  // namespace nbdref::bench
