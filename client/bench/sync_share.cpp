// The synchronous request loop.
#include "sync_share.hpp"

#include <chrono>
#include <stdexcept>
#include <string>

#include "block_buffers.hpp"
#include "data_pattern.hpp"
#include "nbd_connection.hpp"

namespace nbdref::bench {

ShareTally run_sync_share(nbd_handle* handle, WorkloadShare share,
                          std::vector<std::uint64_t>& latencies_ns) {
  using Clock = std::chrono::steady_clock;
  const BlockBuffers buffers(1, share.block_size);
  const auto block = buffers.block(0);
  ShareTally tally;
  auto now = Clock::now();
  while (share.requests ? tally.requests < *share.requests : now < share.deadline) {
    const std::uint64_t offset = share.offsets.next();
    if (share.op == Operation::Write && share.verify) fill_offset_pattern(block, offset);
    const auto start = Clock::now();
    if (share.op == Operation::Read) {
      if (nbd_pread(handle, block.data(), block.size(), offset, 0) == -1) {
        throw_nbd_error("nbd_pread");
      }
    } else {
      if (nbd_pwrite(handle, block.data(), block.size(), offset, 0) == -1) {
        throw_nbd_error("nbd_pwrite");
      }
    }
    now = Clock::now();
    latencies_ns.push_back(
        static_cast<std::uint64_t>(std::chrono::nanoseconds(now - start).count()));
    if (share.op == Operation::Read && share.verify) {
      if (const auto bad = first_pattern_mismatch(block, offset)) {
        throw std::runtime_error("read at " + std::to_string(offset) + ": wrong data at offset " +
                                 std::to_string(*bad));
      }
    }
    ++tally.requests;
    tally.bytes += share.block_size;
  }
  return tally;
}

}  // namespace nbdref::bench
