// A small streaming JSON writer: values go out as they are given, indented
// two spaces per level, with commas and string escaping taken care of.
#pragma once

#include <cstdint>
#include <ostream>
#include <string_view>
#include <vector>

namespace nbdref::info {

class JsonWriter {
 public:
  explicit JsonWriter(std::ostream& out) : out_(out) {}

  void begin_object();
  void end_object();
  void begin_array();
  void end_array();
  // Inside an object, every value is preceded by its key.
  void key(std::string_view name);
  // Text from the server need not be valid UTF-8: invalid bytes become
  // U+FFFD so the document always parses.
  void string(std::string_view text);
  void number(std::uint64_t value);
  void boolean(bool value);
  void null();

 private:
  struct Level {
    bool is_object;
    bool empty = true;
  };

  void before_value();
  void write_quoted(std::string_view text);
  void open(char bracket, bool is_object);
  void close(char bracket);
  void new_line();

  std::ostream& out_;
  std::vector<Level> levels_;
  bool after_key_ = false;
};

}  // namespace nbdref::info
