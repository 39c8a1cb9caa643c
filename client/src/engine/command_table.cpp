#include "engine/command_table.hpp"

namespace nbdref::engine {

CommandTable::CommandTable() : index_(64, nullptr) {}

std::size_t CommandTable::slot_of(std::uint64_t cookie) const {
  // Fibonacci hashing spreads sequential cookies over the table.
  return static_cast<std::size_t>((cookie * 0x9e3779b97f4a7c15ULL) >> 32) & (index_.size() - 1);
}

Command& CommandTable::add(std::uint64_t cookie) {
  if ((count_ + 1) * 2 > index_.size()) grow();
  Command* c;
  if (free_.empty()) {
    pool_.push_back(std::make_unique<Command>());
    c = pool_.back().get();
  } else {
    c = free_.back();
    free_.pop_back();
  }
  c->cookie = cookie;
  c->request = {};
  c->output_start = 0;
  c->errnum = 0;
  c->error_message.clear();
  c->coverage.clear();
  c->content_chunks = 0;
  c->contexts_answered.clear();

  std::size_t i = slot_of(cookie);
  while (index_[i]) i = (i + 1) & (index_.size() - 1);
  index_[i] = c;
  ++count_;
  return *c;
}

Command* CommandTable::find(std::uint64_t cookie) {
  for (std::size_t i = slot_of(cookie); index_[i]; i = (i + 1) & (index_.size() - 1)) {
    if (index_[i]->cookie == cookie) return index_[i];
  }
  return nullptr;
}

void CommandTable::remove(Command& c) {
  const std::size_t mask = index_.size() - 1;
  std::size_t i = slot_of(c.cookie);
  while (index_[i] != &c) i = (i + 1) & mask;
  // Backward-shift deletion keeps every probe chain unbroken without tombstones.
  std::size_t hole = i;
  for (std::size_t j = (i + 1) & mask; index_[j]; j = (j + 1) & mask) {
    const std::size_t home = slot_of(index_[j]->cookie);
    const bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
    if (movable) {
      index_[hole] = index_[j];
      hole = j;
    }
  }
  index_[hole] = nullptr;
  --count_;
  free_.push_back(&c);
}

std::vector<Command*> CommandTable::all() const {
  std::vector<Command*> out;
  if (count_ == 0) return out;
  out.reserve(count_);
  for (auto* c : index_) {
    if (c) out.push_back(c);
  }
  return out;
}

void CommandTable::grow() {
  std::vector<Command*> old(index_.size() * 2, nullptr);
  old.swap(index_);
  for (auto* c : old) {
    if (!c) continue;
    std::size_t i = slot_of(c->cookie);
    while (index_[i]) i = (i + 1) & (index_.size() - 1);
    index_[i] = c;
  }
}

}  // namespace nbdref::engine
