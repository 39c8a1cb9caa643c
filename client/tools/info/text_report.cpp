#include "text_report.hpp"

#include <algorithm>
#include <cstdio>
#include <iomanip>
#include <string>

#include "extent_meaning.hpp"
#include "human_size.hpp"
#include "utf8.hpp"

namespace nbdref::info {
namespace {

// Names and descriptions come from the server: control characters and bytes
// that are not UTF-8 are shown as escapes, so they can neither rewrite the
// person's terminal nor garble the text.
std::string printable(std::string_view text) {
  std::string out;
  while (!text.empty()) {
    const auto c = static_cast<unsigned char>(text.front());
    const std::size_t sequence = utf8_sequence_length(text);
    if (sequence != 0) {
      out += text.substr(0, sequence);
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char escape[8];
      std::snprintf(escape, sizeof escape, "\\x%02x", c);
      out += escape;
    }
    text.remove_prefix(sequence != 0 ? sequence : 1);
  }
  return out;
}

std::string in_quotes(std::string_view name) {
  return "\"" + printable(name) + "\"";
}

const char* yes_no(bool value) {
  return value ? "yes" : "no";
}

void print_export(std::ostream& out, const ExportReport& e) {
  out << "export " << in_quotes(e.name) << ":\n";
  if (e.failure) {
    out << "  error: " << printable(*e.failure) << "\n";
    return;
  }
  out << "  canonical name: " << in_quotes(e.canonical_name) << "\n";
  out << "  description: " << (e.description ? in_quotes(*e.description) : "none") << "\n";
  out << "  size: " << e.size << " bytes (" << human_size(e.size) << ")\n";
  out << "  capabilities:\n";
  for (const auto& c : e.capabilities) out << "    " << c.name << ": " << yes_no(c.offered) << "\n";
  if (e.block_sizes) {
    out << "  block sizes: minimum " << e.block_sizes->minimum << ", preferred "
        << e.block_sizes->preferred << ", maximum " << e.block_sizes->maximum << "\n";
  } else {
    out << "  block sizes: not advertised\n";
  }
  if (e.contexts_unavailable) {
    out << "  metadata contexts: not listed (" << printable(*e.contexts_unavailable) << ")\n";
  } else if (e.contexts.empty()) {
    out << "  metadata contexts: none\n";
  } else {
    out << "  metadata contexts:\n";
    for (const auto& c : e.contexts) out << "    " << printable(c) << "\n";
  }
}

}  // namespace

void print_text(std::ostream& out, const ServerReport& report) {
  out << "protocol: " << report.protocol << "\n";
  out << "structured replies: " << yes_no(report.structured_replies) << "\n";
  out << "extended headers: " << yes_no(report.extended_headers) << "\n";
  if (report.listed) {
    out << "exports listed: " << report.exports.size() << "\n";
  }
  for (const auto& e : report.exports) {
    out << "\n";
    print_export(out, e);
  }
}

void print_text(std::ostream& out, const ExtentMap& map) {
  out << "extents of export " << in_quotes(map.export_name) << " for " << printable(map.context)
      << ", " << map.size << " bytes (" << human_size(map.size) << "):\n";
  // Wide enough for the largest offset or length, which is the size.
  const int width = static_cast<int>(std::max<std::size_t>(std::to_string(map.size).size(), 6));
  const bool has_meanings = extent_meaning(map.context, 0).has_value();
  out << std::setw(width) << "offset"
      << "  " << std::setw(width) << "length"
      << "  " << std::setw(5) << "flags" << (has_meanings ? "  meaning" : "") << "\n";
  for (const auto& e : map.extents) {
    out << std::setw(width) << e.offset << "  " << std::setw(width) << e.length << "  "
        << std::setw(5) << e.flags;
    if (const auto meaning = extent_meaning(map.context, e.flags)) out << "  " << *meaning;
    out << "\n";
  }
}

}  // namespace nbdref::info
