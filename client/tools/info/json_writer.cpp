#include "json_writer.hpp"

#include <cstdio>

#include "utf8.hpp"

namespace nbdref::info {

void JsonWriter::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (levels_.empty()) return;
  if (!levels_.back().empty) out_ << ',';
  levels_.back().empty = false;
  new_line();
}

void JsonWriter::open(char bracket, bool is_object) {
  before_value();
  out_ << bracket;
  levels_.push_back({is_object});
}

void JsonWriter::close(char bracket) {
  const bool was_empty = levels_.back().empty;
  levels_.pop_back();
  if (!was_empty) new_line();
  out_ << bracket;
  if (levels_.empty()) out_ << '\n';
}

void JsonWriter::new_line() {
  out_ << '\n';
  for (std::size_t i = 0; i < levels_.size(); ++i) out_ << "  ";
}

void JsonWriter::begin_object() {
  open('{', true);
}
void JsonWriter::end_object() {
  close('}');
}
void JsonWriter::begin_array() {
  open('[', false);
}
void JsonWriter::end_array() {
  close(']');
}

void JsonWriter::key(std::string_view name) {
  before_value();
  write_quoted(name);
  out_ << ": ";
  after_key_ = true;
}

void JsonWriter::string(std::string_view text) {
  before_value();
  write_quoted(text);
}

void JsonWriter::write_quoted(std::string_view text) {
  out_ << '"';
  while (!text.empty()) {
    const auto c = static_cast<unsigned char>(text.front());
    const std::size_t sequence = utf8_sequence_length(text);
    if (sequence != 0) {
      out_ << text.substr(0, sequence);
    } else if (c == '"' || c == '\\') {
      out_ << '\\' << static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x80) {
      out_ << static_cast<char>(c);
    } else if (c < 0x20) {
      // Control characters may not appear raw in a JSON string.
      char escape[8];
      std::snprintf(escape, sizeof escape, "\\u%04x", c);
      out_ << escape;
    } else {
      out_ << "\\ufffd";  // a byte that is not part of valid UTF-8
    }
    text.remove_prefix(sequence != 0 ? sequence : 1);
  }
  out_ << '"';
}

void JsonWriter::number(std::uint64_t value) {
  before_value();
  out_ << value;
}

void JsonWriter::boolean(bool value) {
  before_value();
  out_ << (value ? "true" : "false");
}

void JsonWriter::null() {
  before_value();
  out_ << "null";
}

}  // namespace nbdref::info
