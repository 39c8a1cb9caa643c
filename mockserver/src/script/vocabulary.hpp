// The words of the script language: every step's form (the words it is
// written with, its placeholders, the keys it accepts and their types).
// The parser checks scripts against it, the printer writes from it, the
// player reads arguments by the keys it names, and `nbdref-mock --help-script`
// prints it. One table, so the three cannot drift apart.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "script/step.hpp"

namespace nbdref::mock::script {

enum class ValueType {
  Number,    // literal (decimal, 0x hex, K/M/G/T suffix) or symbols joined by |
  Text,      // quoted string
  Bytes,     // hex:..., "quoted", zeros:N
  Duration,  // N ms or N s ("250ms", "2s")
  Extents,   // length:flags,length:flags,...
  Bool,      // yes or no
  Word,      // one of ValueSpec::words
};

// Which protocol names a Number accepts, from wire/constants.hpp. A name is
// written in full (NBD_FLAG_SEND_FLUSH) or without its prefix, in any case,
// with - for _ (send-flush).
enum class Symbols {
  None,
  HandshakeFlags,     // NBD_FLAG_FIXED_NEWSTYLE ...
  ClientFlags,        // NBD_FLAG_C_...
  TransmissionFlags,  // NBD_FLAG_HAS_FLAGS ...
  Options,            // NBD_OPT_...
  OptionReplies,      // NBD_REP_...
  ErrorReplies,       // NBD_REP_ERR_... (prefix NBD_REP_ERR_)
  InfoTypes,          // NBD_INFO_...
  Commands,           // NBD_CMD_...
  CommandFlags,       // NBD_CMD_FLAG_...
  ReplyFlags,         // NBD_REPLY_FLAG_...
  ReplyTypes,         // NBD_REPLY_TYPE_...
  Errors,             // NBD_EIO ... (prefix NBD_)
};

// Whether a step sends, reads, or steers: expectations accept `*` and
// capture `$name`; sending steps may use a captured `$name` in Number places.
enum class Role { Send, Expect, Control };

struct ValueSpec {
  ValueType type = ValueType::Number;
  Symbols symbols = Symbols::None;
  std::vector<std::string_view> words;  // for ValueType::Word
};

struct KeySpec {
  std::string_view key;
  ValueSpec value;
  std::string_view meaning;  // one line, for documentation
};

struct FormSpec {
  StepKind kind;
  // The words as written, with <placeholders> for the subjects:
  // "reply <option> error <error>".
  std::string_view pattern;
  std::vector<ValueSpec> subjects;  // one per placeholder, in order
  std::vector<KeySpec> keys;
  Role role = Role::Send;
  bool block = false;  // followed by { ... }
  std::string_view summary;
};

// Every form, in documentation order.
const std::vector<FormSpec>& forms();
const FormSpec& form_of(StepKind kind);
// The key's spec in `form`, or nullptr when the form has no such key.
const KeySpec* find_key(const FormSpec& form, std::string_view key);

// The value of one protocol name ("SEND_FLUSH", "send-flush",
// "NBD_FLAG_SEND_FLUSH") in the table `symbols`; nullopt when unknown.
std::optional<std::uint64_t> resolve_symbol(Symbols symbols, std::string_view name);
// The short name of `value` in `symbols` ("SEND_FLUSH"), or nullopt.
std::optional<std::string> symbol_name(Symbols symbols, std::uint64_t value);

}  // namespace nbdref::mock::script
