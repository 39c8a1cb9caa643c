// Scripts in C++, with the words of the text form: each method adds the
// step of the same name, and its arguments are set by their keys.
//
//   ScriptBuilder b;
//   b.greeting_newstyle();
//   b.expect_client_flags();
//   b.expect_option("GO").set("name", "disk");
//   b.reply_info_export("GO").set("size", 1 << 20).set("flags", "HAS_FLAGS|SEND_FLUSH");
//   b.reply_ack("GO");
//   b.expect_request("READ").capture("cookie", "c");
//   b.simple_reply().use("cookie", "c").set("data", std::vector<std::uint8_t>(512));
//   b.repeat(3, [](ScriptBuilder& r) { r.raw({0x00, 0xff}); });
//   Script s = b.build();
//
// Keys and values are checked against vocabulary.hpp as they are set: an
// unknown key or a value of the wrong type throws std::invalid_argument
// (a mistake in the test, not in the client under test).
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "script/step.hpp"

namespace nbdref::mock::script {

// Sets the arguments of one step just added. Setting a key again replaces
// its value.
class StepBuilder {
 public:
  // Numbers (a negative one throws), and yes/no for Bool keys. Templates
  // so that any integer, 0 included, and a bool each match exactly one.
  template <std::integral N>
  requires(!std::same_as<N, bool>) StepBuilder& set(std::string_view key, N number) {
    if (std::cmp_less(number, 0)) refuse_negative(key);
    return set_number(key, static_cast<std::uint64_t>(number));
  }
  template <std::same_as<bool> B>
  StepBuilder& set(std::string_view key, B yes) {
    return set_bool(key, yes);
  }
  // Text keys take the text; Number keys resolve protocol names
  // ("HAS_FLAGS|SEND_FLUSH"); Bytes keys take the text's bytes; Word keys
  // the word; Duration keys "250ms"; Extents keys "4096:0,512:3".
  StepBuilder& set(std::string_view key, std::string_view text);
  StepBuilder& set(std::string_view key, const char* text) {
    return set(key, std::string_view(text));
  }
  StepBuilder& set(std::string_view key, std::vector<std::uint8_t> bytes);
  // At least one extent: the text form has no spelling for none.
  StepBuilder& set(std::string_view key, std::vector<ExtentSpec> extents);
  StepBuilder& set_ms(std::string_view key, std::uint64_t milliseconds);
  // In an expectation: accept any value / capture it as $name.
  StepBuilder& any(std::string_view key);
  StepBuilder& capture(std::string_view key, std::string name);
  // In a sending step: the value captured as $name.
  StepBuilder& use(std::string_view key, std::string name);

 private:
  friend class ScriptBuilder;
  // The step is held by position: adding later steps may move it.
  StepBuilder(std::vector<Step>& steps, std::size_t index) : steps_(&steps), index_(index) {}

  Step& step() const { return (*steps_)[index_]; }
  StepBuilder& set_number(std::string_view key, std::uint64_t number);
  [[noreturn]] static void refuse_negative(std::string_view key);
  StepBuilder& set_bool(std::string_view key, bool yes);
  // Sets `key` to what `text` spells in the text form.
  StepBuilder& set_spelled(std::string_view key, std::string_view text);
  StepBuilder& put(std::string_view key, Value value);

  std::vector<Step>* steps_;
  std::size_t index_;
};

class ScriptBuilder {
 public:
  ScriptBuilder() = default;

  // Subjects written as in the text form: an option or command name
  // ("GO", "NBD_OPT_GO"), a number ("7"), "*" or "$name".
  StepBuilder greeting_newstyle();
  StepBuilder greeting_oldstyle();
  StepBuilder expect_client_flags();
  StepBuilder expect_option(std::string_view option = "*");
  StepBuilder reply_ack(std::string_view option);
  StepBuilder reply_server(std::string_view option);
  StepBuilder reply_info_export(std::string_view option);
  StepBuilder reply_info_name(std::string_view option);
  StepBuilder reply_info_description(std::string_view option);
  StepBuilder reply_info_block_size(std::string_view option);
  StepBuilder reply_info_raw(std::string_view option);
  StepBuilder reply_meta_context(std::string_view option);
  StepBuilder reply_error(std::string_view option, std::string_view error);
  StepBuilder reply_raw(std::string_view option);
  StepBuilder export_name_reply();
  StepBuilder expect_request(std::string_view command = "*");
  StepBuilder simple_reply();
  StepBuilder chunk_none();
  StepBuilder chunk_data();
  StepBuilder chunk_hole();
  StepBuilder chunk_block_status();
  StepBuilder chunk_block_status_ext();
  StepBuilder chunk_error();
  StepBuilder chunk_error_offset();
  StepBuilder chunk_raw();
  StepBuilder raw(std::vector<std::uint8_t> bytes);
  StepBuilder expect_eof();
  StepBuilder close();
  StepBuilder half_close();
  StepBuilder pause_ms(std::uint64_t milliseconds);
  StepBuilder fragments(std::uint64_t size, const std::function<void(ScriptBuilder&)>& body);
  StepBuilder repeat(std::uint64_t count, const std::function<void(ScriptBuilder&)>& body);
  // serve's block takes only export steps, and export steps belong only
  // there: anything else throws std::invalid_argument.
  StepBuilder serve(const std::function<void(ScriptBuilder&)>& exports = {});
  StepBuilder export_(std::string_view name, std::uint64_t size);

  Script build() const { return script_; }
  const Script& script() const { return script_; }

 private:
  explicit ScriptBuilder(bool serve_block) : serve_block_(serve_block) {}

  StepBuilder add(StepKind kind, std::vector<Value> subjects = {});
  StepBuilder add_block(StepKind kind, std::vector<Value> subjects,
                        const std::function<void(ScriptBuilder&)>& body);

  Script script_;
  bool serve_block_ = false;  // building the body of serve
};

}  // namespace nbdref::mock::script
