#include "script_help.hpp"

#include <sstream>

#include "script/serve_fault.hpp"
#include "script/vocabulary.hpp"

namespace nbdref::mock::cli {
namespace {

// Keys with more words than this list them in a section of their own.
constexpr std::size_t MAX_WORDS_INLINE = 8;

const char* type_name(const script::ValueSpec& spec) {
  using script::ValueType;
  switch (spec.type) {
    case ValueType::Number:
      return spec.symbols == script::Symbols::None ? "number" : "number|name";
    case ValueType::Text:
      return "\"text\"";
    case ValueType::Bytes:
      return "bytes";
    case ValueType::Duration:
      return "duration";
    case ValueType::Extents:
      return "len:flags,...";
    case ValueType::Bool:
      return "yes|no";
    case ValueType::Word:
      return "word";
  }
  return "?";
}

}  // namespace

std::string script_help_text() {
  std::ostringstream out;
  out << "Script steps (one per line; key=value arguments in any order):\n";
  for (const script::FormSpec& form : script::forms()) {
    out << "\n  " << form.pattern << (form.block ? " { ... }" : "") << "\n      " << form.summary
        << '\n';
    for (const script::KeySpec& key : form.keys) {
      std::string left = "      " + std::string(key.key) + "=";
      if (key.value.words.size() > MAX_WORDS_INLINE) {
        left += "NAME";
      } else if (key.value.type == script::ValueType::Word) {
        std::string words;
        for (auto w : key.value.words) words += (words.empty() ? "" : "|") + std::string(w);
        left += words;
      } else {
        left += type_name(key.value);
      }
      out << left << std::string(left.size() < 34 ? 34 - left.size() : 1, ' ') << key.meaning
          << '\n';
    }
  }
  out << "\nFaults (serve fault=NAME): each breaks one server rule, named by its clause id\n";
  for (const script::ServeFaultSpec& f : script::serve_faults()) {
    out << "\n  " << f.name << " [" << f.clause << "]\n      " << f.breaks << '\n';
  }
  out << "\nValues: 42, 0x2a, 64K/1M/2G; protocol names joined by | (HAS_FLAGS|SEND_FLUSH);\n"
         "\"text\" with \\n \\t \\\" \\\\ \\xHH; bytes as hex:00ff, \"text\" or zeros:N; "
         "250ms or 2s;\n"
         "$name captures in expectations and reuses in replies; * matches anything.\n";
  return out.str();
}

}  // namespace nbdref::mock::cli
