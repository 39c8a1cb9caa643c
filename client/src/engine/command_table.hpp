// The commands in flight, found by cookie. Records are pooled and reused,
// so steady-state traffic allocates nothing; the index is an open-addressing
// hash table keyed by cookie.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/command.hpp"
#include "engine/range_set.hpp"

namespace nbdref::engine {

struct Command {
  std::uint64_t cookie = 0;
  CommandRequest request;
  std::uint64_t output_start = 0;  // where its request starts in the output stream
  std::uint64_t output_end = 0;    // where it ends: the server has it once sent() gets here
  int errnum = 0;                  // first error seen, 0 if none
  std::string error_message;
  RangeSet coverage;                             // READ: bytes placed so far
  unsigned content_chunks = 0;                   // READ: data and hole chunks seen
  std::vector<std::uint32_t> contexts_answered;  // BLOCK_STATUS: context ids seen

  void record_error(int err, std::string message) {
    if (errnum == 0) {
      errnum = err;
      error_message = std::move(message);
    }
  }
};

class CommandTable {
 public:
  CommandTable();

  // A fresh record for `cookie` (which must not be in the table).
  Command& add(std::uint64_t cookie);
  Command* find(std::uint64_t cookie);
  // Returns the record to the pool; references to it become invalid for reuse.
  void remove(Command& c);

  std::size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  // All commands in flight, in no particular order.
  std::vector<Command*> all() const;

 private:
  std::size_t slot_of(std::uint64_t cookie) const;
  void grow();

  std::vector<std::unique_ptr<Command>> pool_;  // every record ever made
  std::vector<Command*> free_;
  std::vector<Command*> index_;  // size is a power of two; nullptr = empty slot
  std::size_t count_ = 0;
};

}  // namespace nbdref::engine
