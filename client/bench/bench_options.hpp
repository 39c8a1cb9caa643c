// The command line of the benchmark programs (nbdref-bench, libnbd-bench):
// which export, which workload, for how long.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace nbdref::bench {

enum class AccessPattern { Sequential, Random };
enum class Operation { Read, Write };

struct BenchOptions {
  std::string uri;  // the export of a read or write workload
  // --copy SRC DST: both set in copy mode, and `uri` is empty.
  std::string copy_source;
  std::string copy_destination;

  AccessPattern pattern = AccessPattern::Sequential;
  Operation op = Operation::Read;
  std::uint64_t block_size = 4096;
  unsigned in_flight = 64;  // per connection
  unsigned connections = 1;
  bool synchronous = false;  // nbd_pread / nbd_pwrite, one request at a time
  double seconds = 2.0;
  // --bytes: move this much data in all (a whole number of blocks) instead of
  // running for `seconds`; 0 connects and disconnects only.
  std::optional<std::uint64_t> bytes;
  // Data carries the offset pattern (data_pattern.hpp): writes write it,
  // reads check it.
  bool verify = false;
  std::uint64_t seed = 1;  // of the random offsets
  bool quiet = false;      // only the machine-readable line

  bool copy_mode() const { return !copy_source.empty(); }
};

// The options of `args` (argv without the program name). Throws UsageError.
BenchOptions parse_bench_options(std::span<const char* const> args);

// The usage text, naming the program.
std::string bench_usage(const char* program);

// "4096", "64k", "256K", "1M", "2G" (binary multiples) as a number of bytes.
// Throws UsageError naming `option`.
std::uint64_t parse_byte_count(const std::string& option, const std::string& text);

}  // namespace nbdref::bench
