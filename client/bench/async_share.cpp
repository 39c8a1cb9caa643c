// The asynchronous request loop: issue into free slots, poll, retire.
#include "async_share.hpp"

#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "block_buffers.hpp"
#include "data_pattern.hpp"
#include "handle_poller.hpp"
#include "nbd_connection.hpp"

namespace nbdref::bench {
namespace {

class AsyncRunner {
 public:
  AsyncRunner(nbd_handle* handle, WorkloadShare share, unsigned in_flight)
      : handle_(handle),
        share_(std::move(share)),
        buffers_(in_flight, share_.block_size),
        slots_(in_flight),
        poller_({handle}) {
    free_.reserve(in_flight);
    completed_.reserve(in_flight);
    for (unsigned i = 0; i < in_flight; ++i) {
      slots_[i] = Slot{this, i, 0, 0};
      free_.push_back(i);
    }
  }

  ShareTally run() {
    bool time_left = true;
    for (;;) {
      if (!share_.requests) time_left = std::chrono::steady_clock::now() < share_.deadline;
      while (!free_.empty() && (share_.requests ? issued_ < *share_.requests : time_left)) {
        issue();
      }
      if (outstanding_ == 0) break;
      if (completed_.empty()) poller_.run_once();
      retire_completed();
    }
    return tally_;
  }

 private:
  struct Slot {
    AsyncRunner* runner;
    unsigned index;
    std::uint64_t offset;
    int error;
  };

  // The completion callback: only records, so that it does the same small
  // amount of work under both libraries. Returning 1 retires the command.
  static int on_complete(void* user_data, int* error) {
    auto* slot = static_cast<Slot*>(user_data);
    slot->error = *error;
    slot->runner->completed_.push_back(slot->index);
    return 1;
  }

  void issue() {
    Slot& slot = slots_[free_.back()];
    free_.pop_back();
    slot.offset = share_.offsets.next();
    slot.error = 0;
    const auto block = buffers_.block(slot.index);
    const nbd_completion_callback completion{&AsyncRunner::on_complete, &slot, nullptr};
    std::int64_t cookie;
    if (share_.op == Operation::Read) {
      cookie = nbd_aio_pread(handle_, block.data(), block.size(), slot.offset, completion, 0);
      if (cookie == -1) throw_nbd_error("nbd_aio_pread");
    } else {
      if (share_.verify) fill_offset_pattern(block, slot.offset);
      cookie = nbd_aio_pwrite(handle_, block.data(), block.size(), slot.offset, completion, 0);
      if (cookie == -1) throw_nbd_error("nbd_aio_pwrite");
    }
    ++issued_;
    ++outstanding_;
  }

  void retire_completed() {
    for (const unsigned i : completed_) {
      Slot& slot = slots_[i];
      --outstanding_;
      if (slot.error != 0) {
        const char* what = share_.op == Operation::Read ? "read" : "write";
        throw std::runtime_error(std::string(what) + " of " + std::to_string(share_.block_size) +
                                 " bytes at " + std::to_string(slot.offset) +
                                 " failed: " + std::strerror(slot.error));
      }
      if (share_.verify && share_.op == Operation::Read) {
        if (const auto bad = first_pattern_mismatch(buffers_.block(i), slot.offset)) {
          throw std::runtime_error("read at " + std::to_string(slot.offset) +
                                   ": wrong data at offset " + std::to_string(*bad));
        }
      }
      ++tally_.requests;
      tally_.bytes += share_.block_size;
      free_.push_back(i);
    }
    completed_.clear();
  }

  nbd_handle* handle_;
  WorkloadShare share_;
  BlockBuffers buffers_;
  std::vector<Slot> slots_;
  std::vector<unsigned> free_;       // slots not in flight
  std::vector<unsigned> completed_;  // slots whose callback ran, not yet retired
  HandlePoller poller_;
  std::uint64_t issued_ = 0;
  std::uint64_t outstanding_ = 0;
  ShareTally tally_;
};

}  // namespace

ShareTally run_async_share(nbd_handle* handle, WorkloadShare share, unsigned in_flight) {
  AsyncRunner runner(handle, std::move(share), in_flight);
  return runner.run();
}

}  // namespace nbdref::bench
