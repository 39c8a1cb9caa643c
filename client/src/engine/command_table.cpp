#include "engine/command_table.hpp"

namespace nbdref::engine {

Command& CommandTable::add(std::uint64_t cookie) {
  Command& c = table_.add(cookie);
  c.cookie = cookie;
  c.request = {};
  c.output_start = 0;
  c.output_end = 0;
  c.errnum = 0;
  c.error_message.clear();
  c.coverage.clear();
  c.content_chunks = 0;
  c.contexts_answered.clear();
  return c;
}

std::vector<Command*> CommandTable::all() const {
  std::vector<Command*> out;
  if (table_.empty()) return out;
  out.reserve(table_.size());
  table_.for_each([&out](std::uint64_t, Command& c) { out.push_back(&c); });
  return out;
}

}  // namespace nbdref::engine
