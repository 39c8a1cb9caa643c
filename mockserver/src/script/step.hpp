// A mock-server script in memory: the steps a scripted server takes, each
// with the arguments it was written with. The text form (parser.hpp,
// printer.hpp), the C++ builder (builder.hpp) and the player all share this
// model; vocabulary.hpp says which steps exist and which arguments each takes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nbdref::mock::script {

// Where a step or an argument was written, 1-based; 0 for built steps.
struct Location {
  std::size_t line = 0;
  std::size_t column = 0;
  bool operator==(const Location&) const = default;
};

// One block status descriptor as a script writes it: "length:flags".
struct ExtentSpec {
  std::uint64_t length = 0;
  std::uint32_t flags = 0;
  bool operator==(const ExtentSpec&) const = default;
};

struct Value {
  enum class Kind {
    Number,    // 42, 0x2a, 64M, NBD_FLAG_HAS_FLAGS|SEND_FLUSH, an option or command name
    Text,      // "quoted text"
    Bytes,     // hex:00ff, "text as bytes", zeros:4096
    Duration,  // 100ms, 2s (kept in milliseconds)
    Extents,   // 4096:0,8192:3
    Bool,      // yes, no
    Word,      // one of the words a key allows (form=extended)
    Variable,  // $name: captured by an expectation, used by a later step
    Wildcard,  // *: an expectation that accepts anything
  };

  Kind kind = Kind::Number;
  std::uint64_t number = 0;  // Number; Duration in ms; Bool as 0/1
  std::string text;          // Text; Word; Variable's name (without the $)
  std::vector<std::uint8_t> bytes;
  std::vector<ExtentSpec> extents;
  // How the script spelled a Number or Bytes value ("SEND_FLUSH|SEND_FUA",
  // "64M", "zeros:4096"); the printer writes it back. Empty: print plainly.
  std::string spelling;

  bool operator==(const Value&) const = default;

  static Value of_number(std::uint64_t n, std::string spelling = {});
  static Value of_text(std::string s);
  static Value of_bytes(std::vector<std::uint8_t> b, std::string spelling = {});
  static Value of_duration_ms(std::uint64_t ms);
  static Value of_extents(std::vector<ExtentSpec> e);
  static Value of_bool(bool b);
  static Value of_word(std::string w);
  static Value variable(std::string name);
  static Value wildcard();
};

// Every step the language has. Each has one form in vocabulary.cpp.
enum class StepKind {
  // The server sends.
  GreetingNewstyle,      // greeting newstyle
  GreetingOldstyle,      // greeting oldstyle
  ReplyAck,              // reply <option> ack
  ReplyServer,           // reply <option> server
  ReplyInfoExport,       // reply <option> info export
  ReplyInfoName,         // reply <option> info name
  ReplyInfoDescription,  // reply <option> info description
  ReplyInfoBlockSize,    // reply <option> info block-size
  ReplyInfoRaw,          // reply <option> info raw
  ReplyMetaContext,      // reply <option> meta-context
  ReplyError,            // reply <option> error <error>
  ReplyRaw,              // reply <option> raw
  ExportNameReply,       // export-name-reply
  SimpleReply,           // simple-reply
  ChunkNone,             // chunk none
  ChunkData,             // chunk data
  ChunkHole,             // chunk hole
  ChunkBlockStatus,      // chunk block-status
  ChunkBlockStatusExt,   // chunk block-status-ext
  ChunkError,            // chunk error
  ChunkErrorOffset,      // chunk error-offset
  ChunkRaw,              // chunk raw
  Raw,                   // raw <bytes>
  // The server reads.
  ExpectClientFlags,  // expect client-flags
  ExpectOption,       // expect option <option>
  ExpectRequest,      // expect request <command>
  ExpectEof,          // expect eof
  // Control.
  Close,      // close
  HalfClose,  // half-close
  Pause,      // pause <duration>
  Fragments,  // fragments <count> { ... }
  Repeat,     // repeat <count> { ... }
  Serve,      // serve { export ... }
  Export,     // export (inside serve only)
};

struct Arg {
  std::string key;
  Value value;
  Location where;
  // Same key and value; where they were written does not matter.
  bool operator==(const Arg& other) const;
};

struct Step {
  StepKind kind = StepKind::Close;
  // The values standing in the form's <placeholders>, in order
  // ("reply <option> error <error>" has two).
  std::vector<Value> subjects;
  std::vector<Arg> args;   // key=value, in the order written
  std::vector<Step> body;  // the steps of a { } block
  Location where;

  // The argument given for `key`, or nullptr.
  const Value* arg(std::string_view key) const;

  // Same content; locations do not matter, so a printed and re-parsed
  // script equals the one printed.
  bool operator==(const Step& other) const;
};

struct Script {
  std::vector<Step> steps;
  bool operator==(const Script&) const = default;
};

}  // namespace nbdref::mock::script
