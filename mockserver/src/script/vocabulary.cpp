#include "script/vocabulary.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "script/serve_fault.hpp"
#include "wire/constants.hpp"

namespace nbdref::mock::script {
namespace {

struct Symbol {
  std::string_view name;
  std::uint64_t value;
};

#define NBDREF_SYMBOL(name, value) Symbol{#name, value},
const std::vector<Symbol> HANDSHAKE_FLAGS{NBDREF_HANDSHAKE_FLAGS(NBDREF_SYMBOL)};
const std::vector<Symbol> CLIENT_FLAGS{NBDREF_CLIENT_FLAGS(NBDREF_SYMBOL)};
const std::vector<Symbol> TRANSMISSION_FLAGS{NBDREF_TRANSMISSION_FLAGS(NBDREF_SYMBOL)};
const std::vector<Symbol> OPTIONS{NBDREF_OPTIONS(NBDREF_SYMBOL)};
const std::vector<Symbol> OPTION_REPLIES{NBDREF_OPTION_REPLIES(NBDREF_SYMBOL)};
const std::vector<Symbol> INFO_TYPES{NBDREF_INFO_TYPES(NBDREF_SYMBOL)};
const std::vector<Symbol> COMMANDS{NBDREF_COMMANDS(NBDREF_SYMBOL)};
const std::vector<Symbol> COMMAND_FLAGS{NBDREF_COMMAND_FLAGS(NBDREF_SYMBOL)};
const std::vector<Symbol> REPLY_FLAGS{NBDREF_REPLY_FLAGS(NBDREF_SYMBOL)};
const std::vector<Symbol> REPLY_TYPES{NBDREF_REPLY_TYPES(NBDREF_SYMBOL)};
const std::vector<Symbol> ERRORS{NBDREF_ERRORS(NBDREF_SYMBOL)};
#undef NBDREF_SYMBOL

struct Table {
  const std::vector<Symbol>* symbols;
  std::string_view prefix;  // dropped in short names
};

Table table_of(Symbols s) {
  switch (s) {
    case Symbols::None:
      return {nullptr, ""};
    case Symbols::HandshakeFlags:
      return {&HANDSHAKE_FLAGS, "NBD_FLAG_"};
    case Symbols::ClientFlags:
      return {&CLIENT_FLAGS, "NBD_FLAG_C_"};
    case Symbols::TransmissionFlags:
      return {&TRANSMISSION_FLAGS, "NBD_FLAG_"};
    case Symbols::Options:
      return {&OPTIONS, "NBD_OPT_"};
    case Symbols::OptionReplies:
      return {&OPTION_REPLIES, "NBD_REP_"};
    case Symbols::ErrorReplies:
      return {&OPTION_REPLIES, "NBD_REP_ERR_"};
    case Symbols::InfoTypes:
      return {&INFO_TYPES, "NBD_INFO_"};
    case Symbols::Commands:
      return {&COMMANDS, "NBD_CMD_"};
    case Symbols::CommandFlags:
      return {&COMMAND_FLAGS, "NBD_CMD_FLAG_"};
    case Symbols::ReplyFlags:
      return {&REPLY_FLAGS, "NBD_REPLY_FLAG_"};
    case Symbols::ReplyTypes:
      return {&REPLY_TYPES, "NBD_REPLY_TYPE_"};
    case Symbols::Errors:
      return {&ERRORS, "NBD_"};
  }
  return {nullptr, ""};
}

// "send-flush" -> "SEND_FLUSH".
std::string canonical(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    c = c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

ValueSpec typed(ValueType type, Symbols symbols = Symbols::None) {
  return ValueSpec{type, symbols, {}};
}

// ---- value specs used by many forms ----
const ValueSpec NUMBER = typed(ValueType::Number);
const ValueSpec TEXT = typed(ValueType::Text);
const ValueSpec BYTES = typed(ValueType::Bytes);
const ValueSpec DURATION = typed(ValueType::Duration);
const ValueSpec EXTENTS = typed(ValueType::Extents);
const ValueSpec BOOL = typed(ValueType::Bool);
const ValueSpec OPTION = typed(ValueType::Number, Symbols::Options);
const ValueSpec COMMAND = typed(ValueType::Number, Symbols::Commands);
const ValueSpec ERROR_REPLY = typed(ValueType::Number, Symbols::ErrorReplies);
const ValueSpec NBD_ERROR = typed(ValueType::Number, Symbols::Errors);
const ValueSpec EXPORT_FLAGS = typed(ValueType::Number, Symbols::TransmissionFlags);
const ValueSpec FORM{ValueType::Word, Symbols::None, {"compact", "structured", "extended"}};

const KeySpec TIMEOUT{"timeout", DURATION, "how long to wait for the client (default 10s)"};

// Keys every option reply takes, to break it on purpose.
std::vector<KeySpec> option_reply_keys(std::vector<KeySpec> own) {
  own.push_back({"magic", NUMBER, "override the reply magic"});
  own.push_back(
      {"type", typed(ValueType::Number, Symbols::OptionReplies), "override the reply type"});
  own.push_back({"length", NUMBER, "override the reply length field"});
  return own;
}

// Keys every structured or extended chunk takes.
std::vector<KeySpec> chunk_keys(std::vector<KeySpec> own) {
  own.push_back({"cookie", NUMBER, "the cookie (default: the last request's)"});
  own.push_back({"flags", typed(ValueType::Number, Symbols::ReplyFlags),
                 "chunk flags (default DONE for none, else 0)"});
  own.push_back({"magic", NUMBER, "override the reply magic"});
  own.push_back({"type", typed(ValueType::Number, Symbols::ReplyTypes), "override the chunk type"});
  own.push_back({"length", NUMBER, "override the payload length field"});
  own.push_back({"form", FORM,
                 "structured (20-byte header) or extended (32-byte header); default: what was "
                 "negotiated"});
  own.push_back({"header-offset", NUMBER,
                 "the extended header's offset field (default: the request's offset)"});
  return own;
}

std::vector<FormSpec> build_forms() {
  using K = StepKind;
  std::vector<FormSpec> f;
  // ---- handshake ----
  f.push_back({K::GreetingNewstyle,
               "greeting newstyle",
               {},
               {{"flags", typed(ValueType::Number, Symbols::HandshakeFlags),
                 "handshake flags (default FIXED_NEWSTYLE|NO_ZEROES)"},
                {"magic", NUMBER, "override NBDMAGIC"},
                {"opt-magic", NUMBER, "override IHAVEOPT"}},
               Role::Send,
               false,
               "the newstyle greeting: NBDMAGIC, IHAVEOPT, 16-bit flags"});
  f.push_back({K::GreetingOldstyle,
               "greeting oldstyle",
               {},
               {{"size", NUMBER, "export size (default 64M)"},
                {"flags", EXPORT_FLAGS, "32-bit flags field (default HAS_FLAGS)"},
                {"magic", NUMBER, "override NBDMAGIC"},
                {"cliserv-magic", NUMBER, "override the oldstyle magic 0x00420281861253"},
                {"padding", NUMBER, "zero bytes after the flags (default 124)"}},
               Role::Send,
               false,
               "the oldstyle greeting, after which transmission begins"});
  f.push_back(
      {K::ExpectClientFlags,
       "expect client-flags",
       {},
       {{"flags", typed(ValueType::Number, Symbols::ClientFlags), "the 32-bit client flags"},
        TIMEOUT},
       Role::Expect,
       false,
       "read the client's 32-bit flags"});
  f.push_back({K::ExpectOption,
               "expect option <option>",
               {OPTION},
               {{"name", TEXT, "the export name of EXPORT_NAME, INFO or GO"},
                {"length", NUMBER, "the option length field"},
                {"data", BYTES, "the option data"},
                {"magic", NUMBER, "the option magic (IHAVEOPT)"},
                TIMEOUT},
               Role::Expect,
               false,
               "read one option request; the subject may be * or $var"});
  f.push_back({K::ReplyAck,
               "reply <option> ack",
               {OPTION},
               option_reply_keys({}),
               Role::Send,
               false,
               "NBD_REP_ACK"});
  f.push_back({K::ReplyServer,
               "reply <option> server",
               {OPTION},
               option_reply_keys({{"name", TEXT, "the export name"},
                                  {"details", TEXT, "text after the name"},
                                  {"name-length", NUMBER, "override the name length field"}}),
               Role::Send,
               false,
               "NBD_REP_SERVER"});
  f.push_back({K::ReplyInfoExport,
               "reply <option> info export",
               {OPTION},
               option_reply_keys({{"size", NUMBER, "export size (default 64M)"},
                                  {"flags", EXPORT_FLAGS, "transmission flags (default HAS_FLAGS)"},
                                  {"info-type", typed(ValueType::Number, Symbols::InfoTypes),
                                   "override the information type"}}),
               Role::Send,
               false,
               "NBD_REP_INFO with NBD_INFO_EXPORT"});
  f.push_back({K::ReplyInfoName,
               "reply <option> info name",
               {OPTION},
               option_reply_keys(
                   {{"name", TEXT, "the canonical export name (default: the name asked for)"}}),
               Role::Send,
               false,
               "NBD_REP_INFO with NBD_INFO_NAME"});
  f.push_back({K::ReplyInfoDescription,
               "reply <option> info description",
               {OPTION},
               option_reply_keys({{"text", TEXT, "the description"}}),
               Role::Send,
               false,
               "NBD_REP_INFO with NBD_INFO_DESCRIPTION"});
  f.push_back({K::ReplyInfoBlockSize,
               "reply <option> info block-size",
               {OPTION},
               option_reply_keys({{"minimum", NUMBER, "minimum block size (default 1)"},
                                  {"preferred", NUMBER, "preferred block size (default 4096)"},
                                  {"maximum", NUMBER, "maximum payload (default 32M)"}}),
               Role::Send,
               false,
               "NBD_REP_INFO with NBD_INFO_BLOCK_SIZE"});
  f.push_back({K::ReplyInfoRaw,
               "reply <option> info raw",
               {OPTION},
               option_reply_keys({{"info-type", typed(ValueType::Number, Symbols::InfoTypes),
                                   "the information type"},
                                  {"data", BYTES, "what follows the type"}}),
               Role::Send,
               false,
               "NBD_REP_INFO with any type and payload"});
  f.push_back(
      {K::ReplyMetaContext,
       "reply <option> meta-context",
       {OPTION},
       option_reply_keys({{"id", NUMBER, "the context id (default 1; 0 for LIST_META_CONTEXT)"},
                          {"name", TEXT, "the context name (default \"base:allocation\")"}}),
       Role::Send,
       false,
       "NBD_REP_META_CONTEXT"});
  f.push_back({K::ReplyError,
               "reply <option> error <error>",
               {OPTION, ERROR_REPLY},
               option_reply_keys({{"message", TEXT, "the error text"}}),
               Role::Send,
               false,
               "an error reply: unsup, policy, invalid, platform, tls-reqd, unknown, shutdown, "
               "block-size-reqd, too-big, ext-header-reqd, or a number"});
  f.push_back({K::ReplyRaw,
               "reply <option> raw",
               {OPTION},
               option_reply_keys({{"data", BYTES, "the reply payload"}}),
               Role::Send,
               false,
               "an option reply with any type (type=) and payload"});
  f.push_back({K::ExportNameReply,
               "export-name-reply",
               {},
               {{"size", NUMBER, "export size (default 64M)"},
                {"flags", EXPORT_FLAGS, "transmission flags (default HAS_FLAGS)"},
                {"padding", NUMBER,
                 "zero bytes after the flags (default 124, or 0 if the client sent NO_ZEROES)"}},
               Role::Send,
               false,
               "the reply to NBD_OPT_EXPORT_NAME, after which transmission begins"});
  // ---- transmission ----
  f.push_back({K::ExpectRequest,
               "expect request <command>",
               {COMMAND},
               {{"cookie", NUMBER, "the cookie"},
                {"offset", NUMBER, "the offset"},
                {"length", NUMBER, "the length"},
                {"flags", typed(ValueType::Number, Symbols::CommandFlags), "command flags"},
                {"data", BYTES, "the payload of a write"},
                {"magic", NUMBER, "the request magic"},
                {"form", FORM, "compact or extended (default: what was negotiated)"},
                TIMEOUT},
               Role::Expect,
               false,
               "read one request and its payload; the subject may be * or $var"});
  f.push_back({K::SimpleReply,
               "simple-reply",
               {},
               {{"cookie", NUMBER, "the cookie (default: the last request's)"},
                {"error", NBD_ERROR, "the error (default 0)"},
                {"data", BYTES, "data after the header"},
                {"magic", NUMBER, "override the reply magic"}},
               Role::Send,
               false,
               "a simple reply"});
  f.push_back(
      {K::ChunkNone, "chunk none", {}, chunk_keys({}), Role::Send, false, "NBD_REPLY_TYPE_NONE"});
  f.push_back({K::ChunkData,
               "chunk data",
               {},
               chunk_keys({{"offset", NUMBER, "where the data goes (default: the request's)"},
                           {"data", BYTES, "the data (default: zeroes, the request's length)"}}),
               Role::Send,
               false,
               "NBD_REPLY_TYPE_OFFSET_DATA"});
  f.push_back({K::ChunkHole,
               "chunk hole",
               {},
               chunk_keys({{"offset", NUMBER, "where the hole starts (default: the request's)"},
                           {"size", NUMBER, "the hole's length (default: the request's)"}}),
               Role::Send,
               false,
               "NBD_REPLY_TYPE_OFFSET_HOLE"});
  f.push_back(
      {K::ChunkBlockStatus,
       "chunk block-status",
       {},
       chunk_keys({{"id", NUMBER, "the meta context id (default: base:allocation's)"},
                   {"extents", EXTENTS, "length:flags,... (default: the request's length:0)"}}),
       Role::Send,
       false,
       "NBD_REPLY_TYPE_BLOCK_STATUS"});
  f.push_back({K::ChunkBlockStatusExt,
               "chunk block-status-ext",
               {},
               chunk_keys({{"id", NUMBER, "the meta context id"},
                           {"extents", EXTENTS, "length:flags,..."},
                           {"count", NUMBER, "override the descriptor count"}}),
               Role::Send,
               false,
               "NBD_REPLY_TYPE_BLOCK_STATUS_EXT"});
  f.push_back({K::ChunkError,
               "chunk error",
               {},
               chunk_keys({{"error", NBD_ERROR, "the error (default EIO)"},
                           {"message", TEXT, "the message"},
                           {"message-length", NUMBER, "override the message length field"}}),
               Role::Send,
               false,
               "NBD_REPLY_TYPE_ERROR"});
  f.push_back({K::ChunkErrorOffset,
               "chunk error-offset",
               {},
               chunk_keys({{"error", NBD_ERROR, "the error (default EIO)"},
                           {"message", TEXT, "the message"},
                           {"offset", NUMBER, "where the error is"},
                           {"message-length", NUMBER, "override the message length field"}}),
               Role::Send,
               false,
               "NBD_REPLY_TYPE_ERROR_OFFSET"});
  f.push_back({K::ChunkRaw,
               "chunk raw",
               {},
               chunk_keys({{"payload", BYTES, "the payload"}}),
               Role::Send,
               false,
               "a chunk of any type (type=) and payload"});
  f.push_back({K::Raw, "raw <bytes>", {BYTES}, {}, Role::Send, false, "send these bytes"});
  f.push_back({K::ExpectEof,
               "expect eof",
               {},
               {TIMEOUT},
               Role::Expect,
               false,
               "the client closes its side without sending anything more"});
  // ---- control ----
  f.push_back({K::Close, "close", {}, {}, Role::Control, false, "close the connection"});
  f.push_back(
      {K::HalfClose, "half-close", {}, {}, Role::Control, false, "stop sending; keep reading"});
  f.push_back({K::Pause,
               "pause <duration>",
               {DURATION},
               {},
               Role::Control,
               false,
               "wait before the next step"});
  f.push_back({K::Fragments,
               "fragments <count>",
               {NUMBER},
               {{"gap", DURATION, "wait between pieces (default 1ms)"}},
               Role::Control,
               true,
               "send what the block sends in pieces of <count> bytes"});
  f.push_back({K::Repeat,
               "repeat <count>",
               {NUMBER},
               {},
               Role::Control,
               true,
               "run the block <count> times"});
  f.push_back({K::Serve,
               "serve",
               {},
               {{"structured", BOOL, "offer structured replies (default yes)"},
                {"extended", BOOL, "offer extended headers (default yes)"},
                {"meta-contexts", BOOL, "offer base:allocation (default yes)"},
                {"list", BOOL, "answer NBD_OPT_LIST (default yes)"},
                {"info", BOOL, "answer NBD_OPT_INFO and NBD_OPT_GO (default yes)"},
                {"fixed-newstyle", BOOL, "greet with FIXED_NEWSTYLE (default yes)"},
                {"no-zeroes", BOOL, "greet with NO_ZEROES (default yes)"},
                {"oldstyle", BOOL, "greet oldstyle (default no)"},
                {"fault",
                 {ValueType::Word, Symbols::None, serve_fault_names()},
                 "break one server rule on purpose (default none; see Faults below)"}},
               Role::Control,
               true,
               "hand the rest of the connection to the RAM-disk server, with the exports of "
               "the block (none: one 64 MiB export named \"\")"});
  f.push_back({K::Export,
               "export",
               {},
               {{"name", TEXT, "export name"},
                {"size", NUMBER, "size in bytes"},
                {"description", TEXT, "description"},
                {"data", BYTES, "initial contents from offset 0"},
                {"read-only", BOOL, "refuse writes"},
                {"rotational", BOOL, "set ROTATIONAL"},
                {"minimum-block", NUMBER, "minimum block size"},
                {"preferred-block", NUMBER, "preferred block size"},
                {"maximum-payload", NUMBER, "maximum payload"},
                {"flush", BOOL, "offer FLUSH (default yes)"},
                {"fua", BOOL, "offer FUA (default yes)"},
                {"trim", BOOL, "offer TRIM (default yes)"},
                {"write-zeroes", BOOL, "offer WRITE_ZEROES (default yes)"},
                {"fast-zero", BOOL, "offer FAST_ZERO (default yes)"},
                {"cache", BOOL, "offer CACHE (default yes)"},
                {"df", BOOL, "offer DF (default yes)"},
                {"multi-conn", BOOL, "offer CAN_MULTI_CONN (default yes)"}},
               Role::Control,
               false,
               "one export of serve (only inside a serve block)"});
  return f;
}

}  // namespace

const std::vector<FormSpec>& forms() {
  static const std::vector<FormSpec> all = build_forms();
  return all;
}

const FormSpec& form_of(StepKind kind) {
  for (const FormSpec& f : forms()) {
    if (f.kind == kind) return f;
  }
  throw std::logic_error("script vocabulary: a step kind without a form");
}

const KeySpec* find_key(const FormSpec& form, std::string_view key) {
  for (const KeySpec& k : form.keys) {
    if (k.key == key) return &k;
  }
  return nullptr;
}

std::optional<std::uint64_t> resolve_symbol(Symbols symbols, std::string_view name) {
  const Table t = table_of(symbols);
  if (!t.symbols) return std::nullopt;
  const std::string wanted = canonical(name);
  for (const Symbol& s : *t.symbols) {
    if (s.name == wanted) return s.value;
    if (s.name.starts_with(t.prefix) && s.name.substr(t.prefix.size()) == wanted) return s.value;
  }
  return std::nullopt;
}

std::optional<std::string> symbol_name(Symbols symbols, std::uint64_t value) {
  const Table t = table_of(symbols);
  if (!t.symbols) return std::nullopt;
  for (const Symbol& s : *t.symbols) {
    if (s.value == value && s.name.starts_with(t.prefix)) {
      return std::string(s.name.substr(t.prefix.size()));
    }
  }
  return std::nullopt;
}

}  // namespace nbdref::mock::script
