#include "engine/command_table.hpp"

#include "wire/constants.hpp"

namespace nbdref::engine {
namespace {

bool is_large_read(const CommandRequest& r) {
  return r.type == wire::NBD_CMD_READ && r.length >= LARGE_READ;
}

}  // namespace

Command& CommandTable::add(std::uint64_t cookie, const CommandRequest& request) {
  Command& c = table_.add(cookie);
  c.cookie = cookie;
  c.request = request;
  c.output_start = 0;
  c.output_end = 0;
  c.errnum = 0;
  c.error_message.clear();
  c.coverage.clear();
  c.content_chunks = 0;
  c.contexts_answered.clear();
  if (is_large_read(request)) ++large_reads_;
  return c;
}

void CommandTable::remove(const Command& c) {
  if (is_large_read(c.request)) --large_reads_;
  table_.remove(c.cookie);
}

std::vector<Command*> CommandTable::all() const {
  std::vector<Command*> out;
  out.reserve(table_.size());
  table_.for_each([&out](std::uint64_t, Command& c) { out.push_back(&c); });
  return out;
}

}  // namespace nbdref::engine
