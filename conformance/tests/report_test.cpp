// The report writers on a hand-made run: JUnit XML parsed back with libxml2
// (structure, counts, the mapping of outcomes and expectations), JSON
// escaping and content, and the text report's grouping and summary.
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <gtest/gtest.h>

#include "runner/outcome.hpp"

#include <map>
#include <memory>

#include "report/json_report.hpp"
#include "report/junit_report.hpp"
#include "report/text_report.hpp"

namespace nbdref::conform {
namespace {

using namespace std::chrono_literals;

Outcome dummy(CheckContext&) {
  return {};
}

// Six checks in two areas covering every outcome, with and without
// expectations: a run the writers must map exactly.
class ReportFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    catalogue_.add({"hs.pass", "handshake", {"S-HS-014"}, Level::Must, "passes", &dummy});
    catalogue_.add({"hs.fail", "handshake", {"S-HS-004"}, Level::Must, "fails", &dummy});
    catalogue_.add({"hs.na", "handshake", {"S-HS-018"}, Level::MustNot, "n/a", &dummy});
    catalogue_.add({"opt.error", "options", {"S-OPT-007"}, Level::Must, "errors", &dummy});
    catalogue_.add({"opt.known", "options", {"S-OPT-008"}, Level::Should, "known", &dummy});
    catalogue_.add(
        {"opt.unexpected-pass", "options", {"S-OPT-005"}, Level::Should, "passes", &dummy});
    const auto& c = catalogue_.checks();

    auto transcript = std::make_shared<Transcript>("connection 1");
    transcript->sent("client flags", std::vector<std::uint8_t>{0, 0, 0, 1});
    // A server string with a quote, a control byte and invalid UTF-8.
    transcript->received("NBD_REP_ERR_INVALID, message \"a\x01\xff\"",
                         std::vector<std::uint8_t>{0xff});

    add(c[0], {Status::Pass, "", ""});
    add(c[1], {Status::Fail, "went on \"quoted\" <tag> & \x02 \xc3\x28", "closes [S-HS-004]"},
        transcript);
    add(c[2], {Status::NotApplicable, "newstyle server", ""});
    add(c[3], {Status::Error, "no answer within 10 s", ""});
    add(c[4], {Status::Fail, "answered twice", "one reply"}, nullptr,
        Expectation{"opt.known", Status::Fail, "server bug 123", 3});
    add(c[5], {Status::Pass, "", ""}, nullptr,
        Expectation{"opt.unexpected-pass", Status::Fail, "was broken", 4});
    run_.target = "unix:/tmp/s.sock, export \"\"";
    run_.expectation_source = "server.txt";
    run_.duration = 1234ms;
  }

  // The JUnit report of run_, parsed by libxml2; null (the test failed) if
  // it cannot be made or is not XML.
  std::unique_ptr<xmlDoc, decltype(&xmlFreeDoc)> parsed_junit() {
    std::unique_ptr<xmlDoc, decltype(&xmlFreeDoc)> doc(nullptr, &xmlFreeDoc);
    auto xml = junit_report(run_);
    if (!xml) {
      ADD_FAILURE() << xml.error().message;
      return doc;
    }
    doc.reset(xmlReadMemory(xml->data(), static_cast<int>(xml->size()), "junit.xml", nullptr,
                            XML_PARSE_NONET));
    if (!doc) ADD_FAILURE() << "not XML: " << *xml;
    return doc;
  }

  void add(const Check& check, Outcome outcome, std::shared_ptr<Transcript> transcript = nullptr,
           std::optional<Expectation> expectation = std::nullopt) {
    CheckResult r;
    r.check = &check;
    r.outcome = std::move(outcome);
    if (transcript) r.transcripts.push_back(transcript);
    r.duration = 10ms;
    r.expectation = std::move(expectation);
    r.difference = is_difference(r.outcome.status, r.expectation ? &*r.expectation : nullptr);
    run_.results.push_back(std::move(r));
  }

  Catalogue catalogue_;
  RunResult run_;
};

std::string attribute(xmlNode* node, const char* name) {
  xmlChar* v = xmlGetProp(node, BAD_CAST name);
  if (!v) return "<missing>";
  std::string out(reinterpret_cast<const char*>(v));
  xmlFree(v);
  return out;
}

std::vector<xmlNode*> elements(xmlNode* parent, const char* name) {
  std::vector<xmlNode*> out;
  for (xmlNode* n = parent->children; n; n = n->next) {
    if (n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, BAD_CAST name)) out.push_back(n);
  }
  return out;
}

// The one child element of a testcase (failure, error, skipped) or "".
std::string verdict(xmlNode* testcase) {
  for (xmlNode* n = testcase->children; n; n = n->next) {
    if (n->type == XML_ELEMENT_NODE) return reinterpret_cast<const char*>(n->name);
  }
  return "";
}

TEST_F(ReportFixture, JUnitHasTheStructureAndCountsCiSystemsRead) {
  const auto doc = parsed_junit();
  ASSERT_NE(doc, nullptr);
  xmlNode* root = xmlDocGetRootElement(doc.get());
  ASSERT_STREQ(reinterpret_cast<const char*>(root->name), "testsuites");

  const auto suites = elements(root, "testsuite");
  ASSERT_EQ(suites.size(), 2u);
  EXPECT_EQ(attribute(suites[0], "name"), "handshake");
  EXPECT_EQ(attribute(suites[1], "name"), "options");

  std::map<std::string, std::string> verdicts;
  std::size_t tests = 0, failures = 0, errors = 0, skipped = 0;
  for (xmlNode* suite : suites) {
    std::size_t t = 0, f = 0, e = 0, s = 0;
    for (xmlNode* tc : elements(suite, "testcase")) {
      ++t;
      const std::string v = verdict(tc);
      verdicts[attribute(tc, "name")] = v;
      EXPECT_EQ(attribute(tc, "classname"), "nbdref-conform." + attribute(suite, "name"));
      f += v == "failure";
      e += v == "error";
      s += v == "skipped";
    }
    // Each suite's counts match its children.
    EXPECT_EQ(attribute(suite, "tests"), std::to_string(t));
    EXPECT_EQ(attribute(suite, "failures"), std::to_string(f));
    EXPECT_EQ(attribute(suite, "errors"), std::to_string(e));
    EXPECT_EQ(attribute(suite, "skipped"), std::to_string(s));
    tests += t, failures += f, errors += e, skipped += s;
  }
  EXPECT_EQ(attribute(root, "tests"), std::to_string(tests));
  EXPECT_EQ(attribute(root, "failures"), std::to_string(failures));
  EXPECT_EQ(attribute(root, "errors"), std::to_string(errors));
  EXPECT_EQ(attribute(root, "skipped"), std::to_string(skipped));
  EXPECT_EQ(tests, 6u);

  EXPECT_EQ(verdicts["hs.pass"], "");
  EXPECT_EQ(verdicts["hs.fail"], "failure");
  EXPECT_EQ(verdicts["hs.na"], "skipped");
  EXPECT_EQ(verdicts["opt.error"], "error");
  EXPECT_EQ(verdicts["opt.known"], "skipped");            // a known deviation
  EXPECT_EQ(verdicts["opt.unexpected-pass"], "failure");  // a difference too
}

TEST_F(ReportFixture, JUnitTimesAreSeconds) {
  const auto doc = parsed_junit();
  ASSERT_NE(doc, nullptr);
  xmlNode* root = xmlDocGetRootElement(doc.get());
  // The run took 1234 ms, each check 10 ms: JUnit counts in seconds.
  EXPECT_EQ(attribute(root, "time"), "1.234");
  const auto suites = elements(root, "testsuite");
  ASSERT_EQ(suites.size(), 2u);
  EXPECT_EQ(attribute(suites[0], "time"), "0.030");
  EXPECT_EQ(attribute(suites[1], "time"), "0.030");
  for (xmlNode* suite : suites) {
    for (xmlNode* tc : elements(suite, "testcase")) {
      EXPECT_EQ(attribute(tc, "time"), "0.010") << attribute(tc, "name");
    }
  }
}

TEST_F(ReportFixture, JUnitFailureCarriesTheEvidenceSafely) {
  const auto doc = parsed_junit();
  ASSERT_NE(doc, nullptr);
  xmlNode* suite = elements(xmlDocGetRootElement(doc.get()), "testsuite")[0];
  xmlNode* failed = elements(suite, "testcase")[1];
  xmlNode* failure = elements(failed, "failure").at(0);
  EXPECT_EQ(attribute(failure, "type"), "MUST");
  EXPECT_EQ(attribute(failure, "message"), "went on \"quoted\" <tag> & \\x02 \\xc3(");
  xmlChar* body = xmlNodeGetContent(failure);
  const std::string text(reinterpret_cast<const char*>(body));
  xmlFree(body);
  EXPECT_NE(text.find("required: closes [S-HS-004]"), std::string::npos) << text;
  EXPECT_NE(text.find("C> client flags"), std::string::npos) << text;
  EXPECT_NE(text.find("\\x01\\xff"), std::string::npos) << text;
}

TEST(JsonString, EscapesWhatJsonRequires) {
  EXPECT_EQ(json_string("plain"), "\"plain\"");
  EXPECT_EQ(json_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(json_string("line\nnext\ttab"), "\"line\\nnext\\ttab\"");
  // Control bytes and invalid UTF-8 become \xNN text; valid UTF-8 stays.
  EXPECT_EQ(json_string(std::string("\x01", 1)), "\"\\\\x01\"");
  EXPECT_EQ(json_string("\xff"), "\"\\\\xff\"");
  EXPECT_EQ(json_string("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
  EXPECT_EQ(json_string(std::string("a\0b", 3)), "\"a\\\\x00b\"");
}

TEST_F(ReportFixture, JsonHoldsSummaryAndEveryCheck) {
  const std::string json = json_report(run_, "0.1.0");
  EXPECT_NE(json.find("\"summary\":{\"total\":6,\"passed\":2,\"failed\":2,\"not_applicable\":1,"
                      "\"errors\":1,\"differences\":3}"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"id\":\"opt.known\""), std::string::npos);
  EXPECT_NE(json.find("\"expected\":{\"outcome\":\"fail\",\"reason\":\"server bug 123\"}"),
            std::string::npos);
  EXPECT_NE(json.find("\"hex\":\"00000001\""), std::string::npos);
  EXPECT_EQ(json.find('\x01'), std::string::npos);
}

TEST_F(ReportFixture, TextReportGroupsByAreaAndSummarises) {
  const std::string text = text_report(run_, false);
  const auto handshake = text.find("\nhandshake\n");
  const auto options = text.find("\noptions\n");
  ASSERT_NE(handshake, std::string::npos) << text;
  ASSERT_NE(options, std::string::npos);
  EXPECT_LT(handshake, text.find("hs.fail"));
  EXPECT_LT(options, text.find("opt.error"));
  EXPECT_NE(text.find("Summary: 2 passed, 2 failed, 1 not applicable, 1 error (6 checks"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("Differences from server.txt: 3"), std::string::npos);
  EXPECT_NE(text.find("opt.unexpected-pass                  pass, expected fail (was broken)"),
            std::string::npos)
      << text;
  // Evidence of a failure: observed, required, transcript.
  EXPECT_NE(text.find("required: closes [S-HS-004]"), std::string::npos);
  EXPECT_NE(text.find("C> client flags"), std::string::npos);
}

}  // namespace
}  // namespace nbdref::conform
