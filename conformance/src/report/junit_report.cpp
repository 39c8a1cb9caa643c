#include "report/junit_report.hpp"

#include <libxml/xmlwriter.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <optional>

#include "probe/printable.hpp"

namespace nbdref::conform {
namespace {

// What a check's <testcase> holds besides its name.
enum class CaseKind { Passed, Failure, Error, Skipped };

struct CaseVerdict {
  CaseKind kind;
  std::string message;  // the attribute: one line
  std::string body;     // the element's text: the evidence
};

std::string expectation_text(const Expectation& e) {
  return std::string(status_name(e.status)) + " (" + e.reason + ")";
}

std::string evidence(const CheckResult& r) {
  std::string out = "check: " + r.check->description + "\nclauses: " + r.check->clause_list() +
                    " (" + std::string(level_name(r.check->level)) + ")\n";
  if (!r.outcome.observed.empty()) out += "observed: " + r.outcome.observed + "\n";
  if (!r.outcome.required.empty()) out += "required: " + r.outcome.required + "\n";
  if (r.expectation) out += "expected: " + expectation_text(*r.expectation) + "\n";
  for (const auto& t : r.transcripts) out += t->label() + ":\n" + t->text(true);
  return out;
}

CaseVerdict verdict_of(const CheckResult& r) {
  const Outcome& o = r.outcome;
  if (r.difference) {
    if (o.status == Status::Error) return {CaseKind::Error, o.observed, evidence(r)};
    if (o.status == Status::Fail) return {CaseKind::Failure, o.observed, evidence(r)};
    return {CaseKind::Failure,
            "unexpected " + std::string(status_name(o.status)) + ", expected " +
                expectation_text(*r.expectation),
            evidence(r)};
  }
  switch (o.status) {
    case Status::Pass:
      return {CaseKind::Passed, {}, {}};
    case Status::NotApplicable:
      return {CaseKind::Skipped, "not applicable: " + o.observed, {}};
    case Status::Fail:
    case Status::Error:
      return {CaseKind::Skipped,
              "known deviation: " + std::string(status_name(o.status)) + " - " +
                  (r.expectation ? r.expectation->reason : std::string()) + " - " + o.observed,
              {}};
  }
  return {CaseKind::Passed, {}, {}};
}

// XML 1.0 text: safe_text() leaves valid UTF-8 without control characters
// but newline and tab; U+FFFE and U+FFFF are valid UTF-8 yet not XML
// characters.
std::string xml_text(const std::string& s) {
  std::string out = safe_text(s);
  for (const char* bad : {"\xef\xbf\xbe", "\xef\xbf\xbf"}) {
    for (std::size_t at = out.find(bad); at != std::string::npos; at = out.find(bad, at)) {
      out.replace(at, 3, bad[2] == '\xbe' ? "\\ufffe" : "\\uffff");
    }
  }
  return out;
}

// JUnit times are seconds, with a fractional part: "1.234".
std::string seconds(std::chrono::milliseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(d.count()) / 1000.0);
  return buf;
}

struct Counts {
  std::size_t tests = 0, failures = 0, errors = 0, skipped = 0;
  std::chrono::milliseconds time{0};
  void add(const CheckResult& r, CaseKind kind) {
    ++tests;
    time += r.duration;
    if (kind == CaseKind::Failure) ++failures;
    if (kind == CaseKind::Error) ++errors;
    if (kind == CaseKind::Skipped) ++skipped;
  }
};

class XmlWriter {
 public:
  XmlWriter() : buffer_(xmlBufferCreate()), writer_(nullptr) {
    if (buffer_) writer_ = xmlNewTextWriterMemory(buffer_, 0);
    ok_ = writer_ != nullptr;
  }
  XmlWriter(const XmlWriter&) = delete;
  XmlWriter& operator=(const XmlWriter&) = delete;
  ~XmlWriter() {
    if (writer_) xmlFreeTextWriter(writer_);
    if (buffer_) xmlBufferFree(buffer_);
  }

  void check(int rc) { ok_ = ok_ && rc >= 0; }
  void start_document() {
    check(xmlTextWriterSetIndent(writer_, 1));
    check(xmlTextWriterSetIndentString(writer_, BAD_CAST "  "));
    check(xmlTextWriterStartDocument(writer_, nullptr, "UTF-8", nullptr));
  }
  void start(const char* name) { check(xmlTextWriterStartElement(writer_, BAD_CAST name)); }
  void attribute(const char* name, const std::string& value) {
    check(xmlTextWriterWriteAttribute(writer_, BAD_CAST name, BAD_CAST xml_text(value).c_str()));
  }
  void attribute(const char* name, std::size_t value) { attribute(name, std::to_string(value)); }
  void text(const std::string& value) {
    check(xmlTextWriterWriteString(writer_, BAD_CAST xml_text(value).c_str()));
  }
  void end() { check(xmlTextWriterEndElement(writer_)); }

  // Ends the document and returns it, or nothing after any error.
  std::optional<std::string> finish() {
    if (!ok_) return std::nullopt;
    check(xmlTextWriterEndDocument(writer_));
    xmlFreeTextWriter(writer_);  // flushes into the buffer
    writer_ = nullptr;
    if (!ok_) return std::nullopt;
    return std::string(reinterpret_cast<const char*>(xmlBufferContent(buffer_)),
                       static_cast<std::size_t>(xmlBufferLength(buffer_)));
  }

 private:
  xmlBufferPtr buffer_;
  xmlTextWriterPtr writer_;
  bool ok_ = false;
};

}  // namespace

Result<std::string> junit_report(const RunResult& run) {
  Counts all;
  for (const CheckResult& r : run.results) all.add(r, verdict_of(r).kind);

  XmlWriter w;
  w.start_document();
  w.start("testsuites");
  w.attribute("name", "nbdref-conform");
  w.attribute("tests", all.tests);
  w.attribute("failures", all.failures);
  w.attribute("errors", all.errors);
  w.attribute("skipped", all.skipped);
  // The whole run, set-up between checks included.
  w.attribute("time", seconds(run.duration));
  for (const std::string& area : run.areas()) {
    const auto results = run.in_area(area);
    Counts counts;
    for (const CheckResult* r : results) counts.add(*r, verdict_of(*r).kind);
    w.start("testsuite");
    w.attribute("name", area);
    w.attribute("tests", counts.tests);
    w.attribute("failures", counts.failures);
    w.attribute("errors", counts.errors);
    w.attribute("skipped", counts.skipped);
    w.attribute("time", seconds(counts.time));
    w.start("properties");
    w.start("property");
    w.attribute("name", "target");
    w.attribute("value", run.target);
    w.end();
    w.end();
    for (const CheckResult* r : results) {
      const CaseVerdict v = verdict_of(*r);
      w.start("testcase");
      w.attribute("name", r->check->id);
      w.attribute("classname", "nbdref-conform." + area);
      w.attribute("time", seconds(r->duration));
      if (v.kind != CaseKind::Passed) {
        w.start(v.kind == CaseKind::Failure ? "failure"
                : v.kind == CaseKind::Error ? "error"
                                            : "skipped");
        w.attribute("message", v.message);
        if (v.kind == CaseKind::Failure) {
          w.attribute("type", std::string(level_name(r->check->level)));
        }
        if (!v.body.empty()) w.text(v.body);
        w.end();
      }
      w.end();
    }
    w.end();
  }
  w.end();
  auto document = w.finish();
  if (!document) return failure(EIO, "libxml2 could not write the JUnit report");
  return *document;
}

}  // namespace nbdref::conform
