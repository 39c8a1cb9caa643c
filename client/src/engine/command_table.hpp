// The commands in flight, found by cookie, in a pooled CookieTable: steady
// traffic allocates nothing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/command.hpp"
#include "engine/cookie_table.hpp"
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

// Reads this large are worth receiving straight into the caller's buffer
// even at the price of one more receive per reply
// (ReplyReader::buffered_read_limit).
inline constexpr std::uint64_t LARGE_READ = 64 * 1024;

class CommandTable {
 public:
  // A fresh record for `cookie` (which must not be in the table) carrying `request`.
  Command& add(std::uint64_t cookie, const CommandRequest& request = {});
  Command* find(std::uint64_t cookie) const { return table_.find(cookie); }
  // Returns the record to the pool; references to it become invalid for reuse.
  void remove(const Command& c);
  std::size_t size() const { return table_.size(); }
  bool empty() const { return table_.empty(); }
  // How many of the commands are reads of at least LARGE_READ bytes.
  std::size_t large_reads() const { return large_reads_; }
  // All commands in flight, in no particular order: a copy, so the caller
  // may complete (and so remove) them while walking it.
  std::vector<Command*> all() const;

 private:
  CookieTable<Command> table_;
  std::size_t large_reads_ = 0;
};

}  // namespace nbdref::engine
