// What a stream already says about its conversation -- which options were
// answered, which cookies and meta context ids are in use, which kinds of
// message appear -- so that inserted messages and new field values fit it.
// A layout adds what it knows besides (the transmission target's cookies).
#pragma once

#include <cstdint>
#include <vector>

#include "mutator/nbd_stream.hpp"

namespace nbdref::fuzz::mutator {

struct StreamFacts {
  std::vector<std::uint32_t> options;
  std::vector<std::uint64_t> cookies;
  std::vector<std::uint32_t> context_ids;
  std::vector<MessageKind> kinds;  // without Raw

  static StreamFacts of(const Stream& stream);
  // Adds what `other` holds that this does not.
  void merge(const StreamFacts& other);
};

}  // namespace nbdref::fuzz::mutator
