#include "engine/export_info.hpp"

namespace nbdref::engine {

const char* protocol_name(Protocol p) {
  switch (p) {
    case Protocol::Oldstyle:
      return "oldstyle";
    case Protocol::Newstyle:
      return "newstyle";
    case Protocol::FixedNewstyle:
      return "newstyle-fixed";
  }
  return "unknown";
}

const MetaContext* Session::find_context(std::uint32_t id) const {
  for (const auto& c : meta_contexts) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

}  // namespace nbdref::engine
