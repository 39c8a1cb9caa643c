// Records found by a 64-bit cookie, pooled: a removed record goes back to a
// free list and add() hands it out again, so steady traffic allocates
// nothing once the pool holds as many records as were ever in the table at
// once. The index is an open-addressing hash table (Fibonacci hashing,
// linear probing, backward-shift deletion), kept at most half full.
// The engine's commands in flight and the handle's asynchronous commands
// awaiting retirement both live in one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace nbdref::engine {

template <class Record>
class CookieTable {
 public:
  CookieTable() : index_(64) {}

  // A record for `cookie`, which must not be in the table. A reused record
  // still holds what it held before: the caller sets every field it reads.
  Record& add(std::uint64_t cookie) {
    if ((count_ + 1) * 2 > index_.size()) grow();
    Record* r;
    if (free_.empty()) {
      pool_.push_back(std::make_unique<Record>());
      r = pool_.back().get();
    } else {
      r = free_.back();
      free_.pop_back();
    }
    place({cookie, r});
    ++count_;
    return *r;
  }

  Record* find(std::uint64_t cookie) const {
    for (std::size_t i = slot_of(cookie); index_[i].record; i = next(i)) {
      if (index_[i].cookie == cookie) return index_[i].record;
    }
    return nullptr;
  }

  // Takes `cookie` out of the table (if there) and returns its record to
  // the pool; references to it stay valid until the next add().
  void remove(std::uint64_t cookie) {
    std::size_t i = slot_of(cookie);
    while (index_[i].record && index_[i].cookie != cookie) i = next(i);
    if (!index_[i].record) return;
    free_.push_back(index_[i].record);
    --count_;
    // Backward-shift deletion keeps every probe chain unbroken without tombstones.
    std::size_t hole = i;
    for (std::size_t j = next(i); index_[j].record; j = next(j)) {
      const std::size_t home = slot_of(index_[j].cookie);
      const bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
      if (movable) {
        index_[hole] = index_[j];
        hole = j;
      }
    }
    index_[hole] = {};
  }

  std::size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }

  // Calls f(cookie, record) for every record in the table, in no
  // particular order. f must not add or remove.
  template <class F>
  void for_each(F&& f) const {
    if (count_ == 0) return;
    for (const Slot& s : index_) {
      if (s.record) f(s.cookie, *s.record);
    }
  }

 private:
  struct Slot {
    std::uint64_t cookie = 0;
    Record* record = nullptr;  // nullptr: an empty slot
  };

  std::size_t slot_of(std::uint64_t cookie) const {
    // Fibonacci hashing spreads sequential cookies over the table.
    return static_cast<std::size_t>((cookie * 0x9e3779b97f4a7c15ULL) >> 32) & (index_.size() - 1);
  }
  std::size_t next(std::size_t i) const { return (i + 1) & (index_.size() - 1); }

  void place(Slot s) {
    std::size_t i = slot_of(s.cookie);
    while (index_[i].record) i = next(i);
    index_[i] = s;
  }

  void grow() {
    std::vector<Slot> old(index_.size() * 2);
    old.swap(index_);
    for (const Slot& s : old) {
      if (s.record) place(s);
    }
  }

  std::vector<std::unique_ptr<Record>> pool_;  // every record ever made
  std::vector<Record*> free_;
  std::vector<Slot> index_;  // size is a power of two
  std::size_t count_ = 0;
};

}  // namespace nbdref::engine
