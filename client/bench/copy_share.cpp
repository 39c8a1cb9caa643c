// The copy loop: read into a free buffer, write it out when the read
// completes, reuse the buffer when the write completes.
#include "copy_share.hpp"

#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "block_buffers.hpp"
#include "handle_poller.hpp"
#include "nbd_connection.hpp"

namespace nbdref::bench {
namespace {

class CopyRunner {
 public:
  CopyRunner(nbd_handle* source, nbd_handle* destination, CopyRange range, std::uint64_t block_size,
             unsigned in_flight)
      : source_(source),
        destination_(destination),
        next_(range.begin),
        end_(range.end),
        block_size_(block_size),
        buffers_(in_flight, block_size),
        slots_(in_flight),
        poller_({source, destination}) {
    free_.reserve(in_flight);
    completed_.reserve(in_flight);
    completing_.reserve(in_flight);
    for (unsigned i = 0; i < in_flight; ++i) {
      slots_[i] = Slot{this, i, 0, 0, false, 0};
      free_.push_back(i);
    }
  }

  ShareTally run() {
    for (;;) {
      while (!free_.empty() && next_ < end_) read_next_block();
      if (outstanding_ == 0) break;
      if (completed_.empty()) poller_.run_once();
      retire_completed();
    }
    return tally_;
  }

 private:
  struct Slot {
    CopyRunner* runner;
    unsigned index;
    std::uint64_t offset;
    std::uint64_t length;
    bool writing;  // false: the read is in flight
    int error;
  };

  static int on_complete(void* user_data, int* error) {
    auto* slot = static_cast<Slot*>(user_data);
    slot->error = *error;
    slot->runner->completed_.push_back(slot->index);
    return 1;
  }

  void read_next_block() {
    Slot& slot = slots_[free_.back()];
    free_.pop_back();
    slot.offset = next_;
    slot.length = end_ - next_ < block_size_ ? end_ - next_ : block_size_;
    slot.writing = false;
    slot.error = 0;
    next_ += slot.length;
    const nbd_completion_callback completion{&CopyRunner::on_complete, &slot, nullptr};
    if (nbd_aio_pread(source_, buffers_.block(slot.index).data(), slot.length, slot.offset,
                      completion, 0) == -1) {
      throw_nbd_error("nbd_aio_pread (source)");
    }
    ++outstanding_;
  }

  void write_block(Slot& slot) {
    slot.writing = true;
    const nbd_completion_callback completion{&CopyRunner::on_complete, &slot, nullptr};
    if (nbd_aio_pwrite(destination_, buffers_.block(slot.index).data(), slot.length, slot.offset,
                       completion, 0) == -1) {
      throw_nbd_error("nbd_aio_pwrite (destination)");
    }
  }

  void retire_completed() {
    // Writes issued below complete in a later round: take this round's list.
    completing_.swap(completed_);
    for (const unsigned i : completing_) {
      Slot& slot = slots_[i];
      if (slot.error != 0) {
        throw std::runtime_error(
            std::string(slot.writing ? "write to the destination" : "read from the source") +
            " of " + std::to_string(slot.length) + " bytes at " + std::to_string(slot.offset) +
            " failed: " + std::strerror(slot.error));
      }
      ++tally_.requests;
      if (slot.writing) {
        tally_.bytes += slot.length;
        --outstanding_;
        free_.push_back(i);
      } else {
        write_block(slot);
      }
    }
    completing_.clear();
  }

  nbd_handle* source_;
  nbd_handle* destination_;
  std::uint64_t next_;
  std::uint64_t end_;
  std::uint64_t block_size_;
  BlockBuffers buffers_;
  std::vector<Slot> slots_;
  std::vector<unsigned> free_;
  std::vector<unsigned> completed_;
  std::vector<unsigned> completing_;
  HandlePoller poller_;
  std::uint64_t outstanding_ = 0;  // slots reading or writing
  ShareTally tally_;
};

}  // namespace

ShareTally run_copy_share(nbd_handle* source, nbd_handle* destination, CopyRange range,
                          std::uint64_t block_size, unsigned in_flight) {
  CopyRunner runner(source, destination, range, block_size, in_flight);
  return runner.run();
}

}  // namespace nbdref::bench
