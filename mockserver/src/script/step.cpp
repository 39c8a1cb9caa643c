#include "script/step.hpp"

#include <utility>

namespace nbdref::mock::script {

Value Value::of_number(std::uint64_t n, std::string spelling) {
  Value v;
  v.kind = Kind::Number;
  v.number = n;
  v.spelling = std::move(spelling);
  return v;
}

Value Value::of_text(std::string s) {
  Value v;
  v.kind = Kind::Text;
  v.text = std::move(s);
  return v;
}

Value Value::of_bytes(std::vector<std::uint8_t> b, std::string spelling) {
  Value v;
  v.kind = Kind::Bytes;
  v.bytes = std::move(b);
  v.spelling = std::move(spelling);
  return v;
}

Value Value::of_duration_ms(std::uint64_t ms) {
  Value v;
  v.kind = Kind::Duration;
  v.number = ms;
  return v;
}

Value Value::of_extents(std::vector<ExtentSpec> e) {
  Value v;
  v.kind = Kind::Extents;
  v.extents = std::move(e);
  return v;
}

Value Value::of_bool(bool b) {
  Value v;
  v.kind = Kind::Bool;
  v.number = b ? 1 : 0;
  return v;
}

Value Value::of_word(std::string w) {
  Value v;
  v.kind = Kind::Word;
  v.text = std::move(w);
  return v;
}

Value Value::variable(std::string name) {
  Value v;
  v.kind = Kind::Variable;
  v.text = std::move(name);
  return v;
}

Value Value::wildcard() {
  Value v;
  v.kind = Kind::Wildcard;
  return v;
}

bool Arg::operator==(const Arg& other) const {
  return key == other.key && value == other.value;
}

const Value* Step::arg(std::string_view key) const {
  for (const Arg& a : args) {
    if (a.key == key) return &a.value;
  }
  return nullptr;
}

bool Step::operator==(const Step& other) const {
  return kind == other.kind && subjects == other.subjects && args == other.args &&
         body == other.body;
}

}  // namespace nbdref::mock::script
