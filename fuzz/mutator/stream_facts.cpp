#include "mutator/stream_facts.hpp"

#include <algorithm>

#include "mutator/message_fields.hpp"

namespace nbdref::fuzz::mutator {
namespace {

template <class T>
void add_once(std::vector<T>& to, T value) {
  if (std::find(to.begin(), to.end(), value) == to.end()) to.push_back(value);
}

}  // namespace

StreamFacts StreamFacts::of(const Stream& stream) {
  StreamFacts facts;
  for (const Message& m : stream) {
    if (m.kind != MessageKind::Raw) add_once(facts.kinds, m.kind);
    for (const Field& f : fields_of(m)) {
      switch (f.role) {
        case FieldRole::Option:
          add_once(facts.options, static_cast<std::uint32_t>(read_field(m, f)));
          break;
        case FieldRole::Cookie:
          add_once(facts.cookies, read_field(m, f));
          break;
        case FieldRole::ContextId:
          add_once(facts.context_ids, static_cast<std::uint32_t>(read_field(m, f)));
          break;
        default:
          break;
      }
    }
  }
  return facts;
}

void StreamFacts::merge(const StreamFacts& other) {
  for (const auto v : other.options) add_once(options, v);
  for (const auto v : other.cookies) add_once(cookies, v);
  for (const auto v : other.context_ids) add_once(context_ids, v);
  for (const auto v : other.kinds) add_once(kinds, v);
}

}  // namespace nbdref::fuzz::mutator
