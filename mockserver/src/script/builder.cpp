#include "script/builder.hpp"

#include <optional>
#include <stdexcept>
#include <utility>

#include "script/value_syntax.hpp"
#include "script/vocabulary.hpp"

namespace nbdref::mock::script {
namespace {

std::string quoted(std::string_view s) {
  return "'" + std::string(s) + "'";
}

std::string_view type_name(ValueType type) {
  switch (type) {
    case ValueType::Number:
      return "a number";
    case ValueType::Text:
      return "text";
    case ValueType::Bytes:
      return "bytes";
    case ValueType::Duration:
      return "a duration";
    case ValueType::Extents:
      return "extents";
    case ValueType::Bool:
      return "yes or no";
    case ValueType::Word:
      return "a word";
  }
  return "";
}

// What `text` spells for `spec` in a step of `form`, or the throw that
// tells the test's author what they got wrong.
Value spelled(const FormSpec& form, std::string_view what, const ValueSpec& spec,
              std::string_view text) {
  auto value = parse_value(text, spec, form.role);
  if (!value) {
    throw std::invalid_argument(quoted(form.pattern) + ": " + std::string(what) + ": " +
                                value.error());
  }
  return std::move(*value);
}

// The subject in the form's placeholder `index`, written as in the text form.
Value subject(StepKind kind, std::size_t index, std::string_view text) {
  const FormSpec& form = form_of(kind);
  return spelled(form, "subject", form.subjects.at(index), text);
}

// The spec of `key` in `step`'s form, which must be of `wanted` type
// (any type when nullopt).
const KeySpec& key_of(const Step& step, std::string_view key,
                      std::optional<ValueType> wanted = std::nullopt) {
  const FormSpec& form = form_of(step.kind);
  const KeySpec* spec = find_key(form, key);
  if (!spec) {
    throw std::invalid_argument("unknown key " + quoted(key) + " for " + quoted(form.pattern));
  }
  if (wanted && spec->value.type != *wanted) {
    throw std::invalid_argument("key " + quoted(key) + " of " + quoted(form.pattern) + " takes " +
                                std::string(type_name(spec->value.type)) + ", not " +
                                std::string(type_name(*wanted)));
  }
  return *spec;
}

}  // namespace

// ---- StepBuilder ----

StepBuilder& StepBuilder::put(std::string_view key, Value value) {
  for (Arg& a : step().args) {
    if (a.key == key) {
      a.value = std::move(value);
      return *this;
    }
  }
  step().args.push_back({std::string(key), std::move(value), {}});
  return *this;
}

StepBuilder& StepBuilder::set_number(std::string_view key, std::uint64_t number) {
  key_of(step(), key, ValueType::Number);
  return put(key, Value::of_number(number));
}

void StepBuilder::refuse_negative(std::string_view key) {
  throw std::invalid_argument("key " + quoted(key) + " takes no negative number");
}

StepBuilder& StepBuilder::set_bool(std::string_view key, bool yes) {
  key_of(step(), key, ValueType::Bool);
  return put(key, Value::of_bool(yes));
}

StepBuilder& StepBuilder::set(std::string_view key, std::string_view text) {
  const KeySpec& spec = key_of(step(), key);
  switch (spec.value.type) {
    case ValueType::Text:
      return put(key, Value::of_text(std::string(text)));
    case ValueType::Bytes:
      // Spelled as the quoted text, so the printed script shows the text.
      return put(key, Value::of_bytes(std::vector<std::uint8_t>(text.begin(), text.end()),
                                      quote_text(text)));
    default:
      return set_spelled(key, text);
  }
}

StepBuilder& StepBuilder::set_spelled(std::string_view key, std::string_view text) {
  const KeySpec& spec = key_of(step(), key);
  return put(key, spelled(form_of(step().kind), key, spec.value, text));
}

StepBuilder& StepBuilder::set(std::string_view key, std::vector<std::uint8_t> bytes) {
  key_of(step(), key, ValueType::Bytes);
  return put(key, Value::of_bytes(std::move(bytes)));
}

StepBuilder& StepBuilder::set(std::string_view key, std::vector<ExtentSpec> extents) {
  key_of(step(), key, ValueType::Extents);
  if (extents.empty()) {
    throw std::invalid_argument("key " + quoted(key) + " needs at least one extent");
  }
  return put(key, Value::of_extents(std::move(extents)));
}

StepBuilder& StepBuilder::set_ms(std::string_view key, std::uint64_t milliseconds) {
  key_of(step(), key, ValueType::Duration);
  return put(key, Value::of_duration_ms(milliseconds));
}

StepBuilder& StepBuilder::any(std::string_view key) {
  return set_spelled(key, "*");
}

StepBuilder& StepBuilder::capture(std::string_view key, std::string name) {
  if (form_of(step().kind).role != Role::Expect) {
    throw std::invalid_argument("capture " + quoted(key) + ": only expectations capture");
  }
  return set_spelled(key, "$" + name);
}

StepBuilder& StepBuilder::use(std::string_view key, std::string name) {
  if (form_of(step().kind).role != Role::Send) {
    throw std::invalid_argument("use " + quoted(key) + ": only sending steps use variables");
  }
  return set_spelled(key, "$" + name);
}

// ---- ScriptBuilder ----

StepBuilder ScriptBuilder::add(StepKind kind, std::vector<Value> subjects) {
  if (serve_block_ && kind != StepKind::Export) {
    throw std::invalid_argument("a serve block holds only export steps, not " +
                                quoted(form_of(kind).pattern));
  }
  if (!serve_block_ && kind == StepKind::Export) {
    throw std::invalid_argument("'export' belongs inside a serve block");
  }
  Step step;
  step.kind = kind;
  step.subjects = std::move(subjects);
  script_.steps.push_back(std::move(step));
  return StepBuilder(script_.steps, script_.steps.size() - 1);
}

StepBuilder ScriptBuilder::add_block(StepKind kind, std::vector<Value> subjects,
                                     const std::function<void(ScriptBuilder&)>& body) {
  ScriptBuilder inner(kind == StepKind::Serve);
  if (body) body(inner);
  StepBuilder added = add(kind, std::move(subjects));
  added.step().body = std::move(inner.script_.steps);
  return added;
}

StepBuilder ScriptBuilder::greeting_newstyle() {
  return add(StepKind::GreetingNewstyle);
}
StepBuilder ScriptBuilder::greeting_oldstyle() {
  return add(StepKind::GreetingOldstyle);
}
StepBuilder ScriptBuilder::expect_client_flags() {
  return add(StepKind::ExpectClientFlags);
}

StepBuilder ScriptBuilder::expect_option(std::string_view option) {
  return add(StepKind::ExpectOption, {subject(StepKind::ExpectOption, 0, option)});
}
StepBuilder ScriptBuilder::reply_ack(std::string_view option) {
  return add(StepKind::ReplyAck, {subject(StepKind::ReplyAck, 0, option)});
}
StepBuilder ScriptBuilder::reply_server(std::string_view option) {
  return add(StepKind::ReplyServer, {subject(StepKind::ReplyServer, 0, option)});
}
StepBuilder ScriptBuilder::reply_info_export(std::string_view option) {
  return add(StepKind::ReplyInfoExport, {subject(StepKind::ReplyInfoExport, 0, option)});
}
StepBuilder ScriptBuilder::reply_info_name(std::string_view option) {
  return add(StepKind::ReplyInfoName, {subject(StepKind::ReplyInfoName, 0, option)});
}
StepBuilder ScriptBuilder::reply_info_description(std::string_view option) {
  return add(StepKind::ReplyInfoDescription, {subject(StepKind::ReplyInfoDescription, 0, option)});
}
StepBuilder ScriptBuilder::reply_info_block_size(std::string_view option) {
  return add(StepKind::ReplyInfoBlockSize, {subject(StepKind::ReplyInfoBlockSize, 0, option)});
}
StepBuilder ScriptBuilder::reply_info_raw(std::string_view option) {
  return add(StepKind::ReplyInfoRaw, {subject(StepKind::ReplyInfoRaw, 0, option)});
}
StepBuilder ScriptBuilder::reply_meta_context(std::string_view option) {
  return add(StepKind::ReplyMetaContext, {subject(StepKind::ReplyMetaContext, 0, option)});
}
StepBuilder ScriptBuilder::reply_error(std::string_view option, std::string_view error) {
  return add(StepKind::ReplyError,
             {subject(StepKind::ReplyError, 0, option), subject(StepKind::ReplyError, 1, error)});
}
StepBuilder ScriptBuilder::reply_raw(std::string_view option) {
  return add(StepKind::ReplyRaw, {subject(StepKind::ReplyRaw, 0, option)});
}
StepBuilder ScriptBuilder::export_name_reply() {
  return add(StepKind::ExportNameReply);
}

StepBuilder ScriptBuilder::expect_request(std::string_view command) {
  return add(StepKind::ExpectRequest, {subject(StepKind::ExpectRequest, 0, command)});
}
StepBuilder ScriptBuilder::simple_reply() {
  return add(StepKind::SimpleReply);
}
StepBuilder ScriptBuilder::chunk_none() {
  return add(StepKind::ChunkNone);
}
StepBuilder ScriptBuilder::chunk_data() {
  return add(StepKind::ChunkData);
}
StepBuilder ScriptBuilder::chunk_hole() {
  return add(StepKind::ChunkHole);
}
StepBuilder ScriptBuilder::chunk_block_status() {
  return add(StepKind::ChunkBlockStatus);
}
StepBuilder ScriptBuilder::chunk_block_status_ext() {
  return add(StepKind::ChunkBlockStatusExt);
}
StepBuilder ScriptBuilder::chunk_error() {
  return add(StepKind::ChunkError);
}
StepBuilder ScriptBuilder::chunk_error_offset() {
  return add(StepKind::ChunkErrorOffset);
}
StepBuilder ScriptBuilder::chunk_raw() {
  return add(StepKind::ChunkRaw);
}

StepBuilder ScriptBuilder::raw(std::vector<std::uint8_t> bytes) {
  return add(StepKind::Raw, {Value::of_bytes(std::move(bytes))});
}
StepBuilder ScriptBuilder::expect_eof() {
  return add(StepKind::ExpectEof);
}
StepBuilder ScriptBuilder::close() {
  return add(StepKind::Close);
}
StepBuilder ScriptBuilder::half_close() {
  return add(StepKind::HalfClose);
}

StepBuilder ScriptBuilder::pause_ms(std::uint64_t milliseconds) {
  return add(StepKind::Pause, {Value::of_duration_ms(milliseconds)});
}
StepBuilder ScriptBuilder::fragments(std::uint64_t size,
                                     const std::function<void(ScriptBuilder&)>& body) {
  return add_block(StepKind::Fragments, {Value::of_number(size)}, body);
}
StepBuilder ScriptBuilder::repeat(std::uint64_t count,
                                  const std::function<void(ScriptBuilder&)>& body) {
  return add_block(StepKind::Repeat, {Value::of_number(count)}, body);
}
StepBuilder ScriptBuilder::serve(const std::function<void(ScriptBuilder&)>& exports) {
  return add_block(StepKind::Serve, {}, exports);
}
StepBuilder ScriptBuilder::export_(std::string_view name, std::uint64_t size) {
  StepBuilder added = add(StepKind::Export);
  added.set("name", name).set("size", size);
  return added;
}

}  // namespace nbdref::mock::script
