#include "report/json_report.hpp"

#include <cstdio>

#include "probe/printable.hpp"

namespace nbdref::conform {
namespace {

const char* direction_name(Transcript::Direction d) {
  switch (d) {
    case Transcript::Direction::Sent:
      return "sent";
    case Transcript::Direction::Received:
      return "received";
    case Transcript::Direction::Note:
      return "note";
  }
  return "note";
}

std::string hex(const std::vector<std::uint8_t>& bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

std::string json_transcript(const Transcript& t) {
  std::string out = "{\"label\":" + json_string(t.label()) + ",\"entries\":[";
  bool first = true;
  for (const Transcript::Entry& e : t.entries()) {
    if (!first) out += ',';
    first = false;
    out += "{\"direction\":\"" + std::string(direction_name(e.direction)) +
           "\",\"at_us\":" + std::to_string(e.at.count()) +
           ",\"description\":" + json_string(e.description) +
           ",\"bytes\":" + std::to_string(e.byte_count) + ",\"hex\":\"" + hex(e.bytes) + "\"}";
  }
  return out + "]}";
}

std::string json_result(const CheckResult& r) {
  const Check& c = *r.check;
  std::string out = "{\"id\":" + json_string(c.id) + ",\"area\":" + json_string(c.area) +
                    ",\"level\":" + json_string(level_name(c.level)) + ",\"clauses\":[";
  for (std::size_t i = 0; i < c.clauses.size(); ++i) {
    if (i > 0) out += ',';
    out += json_string(c.clauses[i]);
  }
  out += "],\"description\":" + json_string(c.description) +
         ",\"outcome\":" + json_string(status_name(r.outcome.status)) +
         ",\"observed\":" + json_string(r.outcome.observed) +
         ",\"required\":" + json_string(r.outcome.required) + ",\"expected\":";
  if (r.expectation) {
    out += "{\"outcome\":" + json_string(status_name(r.expectation->status)) +
           ",\"reason\":" + json_string(r.expectation->reason) + "}";
  } else {
    out += "null";
  }
  out += ",\"difference\":" + std::string(r.difference ? "true" : "false") +
         ",\"duration_ms\":" + std::to_string(r.duration.count()) + ",\"transcripts\":[";
  for (std::size_t i = 0; i < r.transcripts.size(); ++i) {
    if (i > 0) out += ',';
    out += json_transcript(*r.transcripts[i]);
  }
  return out + "]}";
}

}  // namespace

std::string json_string(std::string_view s) {
  const std::string text = safe_text(s);
  std::string out = "\"";
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  return out + "\"";
}

std::string json_report(const RunResult& run, std::string_view tool_version) {
  const RunSummary s = run.summary();
  std::string out = "{\"tool\":\"nbdref-conform\",\"version\":" + json_string(tool_version) +
                    ",\"target\":" + json_string(run.target) + ",\"expectations\":" +
                    (run.expectation_source ? json_string(*run.expectation_source) : "null") +
                    ",\"duration_ms\":" + std::to_string(run.duration.count()) +
                    ",\"summary\":{\"total\":" + std::to_string(s.total()) +
                    ",\"passed\":" + std::to_string(s.passed) +
                    ",\"failed\":" + std::to_string(s.failed) +
                    ",\"not_applicable\":" + std::to_string(s.not_applicable) +
                    ",\"errors\":" + std::to_string(s.errors) +
                    ",\"differences\":" + std::to_string(s.differences) + "},\"checks\":[";
  for (std::size_t i = 0; i < run.results.size(); ++i) {
    if (i > 0) out += ',';
    out += "\n" + json_result(run.results[i]);
  }
  return out + "\n]}\n";
}

}  // namespace nbdref::conform
