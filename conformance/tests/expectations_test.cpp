// Expectation files: what parses, what is refused (with the line), and how
// an outcome compares with an expectation.
#include <gtest/gtest.h>

#include "runner/outcome.hpp"

#include "runner/expectations.hpp"

namespace nbdref::conform {
namespace {

Outcome dummy(CheckContext&) {
  return {};
}

Catalogue two_checks() {
  Catalogue c;
  c.add({"a.one", "a", {"S-HS-004"}, Level::Must, "first", &dummy});
  c.add({"a.two", "a", {"S-HS-005"}, Level::Should, "second", &dummy});
  return c;
}

TEST(Expectations, ParsesLinesSkippingCommentsAndBlanks) {
  auto e = Expectations::parse(
      "# a server\n\n  # indented comment\n"
      "a.one   fail   does not close (S-HS-004)\n"
      "a.two\terror\ttimes out\r\n",
      "server.txt");
  ASSERT_TRUE(e) << e.error().message;
  ASSERT_EQ(e->entries().size(), 2u);
  EXPECT_EQ(e->entries()[0].check_id, "a.one");
  EXPECT_EQ(e->entries()[0].status, Status::Fail);
  EXPECT_EQ(e->entries()[0].reason, "does not close (S-HS-004)");
  EXPECT_EQ(e->entries()[0].line, 4u);
  EXPECT_EQ(e->entries()[1].status, Status::Error);
  EXPECT_EQ(e->entries()[1].reason, "times out");
  ASSERT_NE(e->find("a.two"), nullptr);
  EXPECT_EQ(e->find("a.three"), nullptr);
}

TEST(Expectations, AcceptsEveryOutcomeWord) {
  auto e = Expectations::parse("x pass r\ny fail r\nz n/a r\nw error r\n", "f");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->find("x")->status, Status::Pass);
  EXPECT_EQ(e->find("z")->status, Status::NotApplicable);
}

TEST(Expectations, RefusesAnUnknownOutcomeNamingTheLine) {
  auto e = Expectations::parse("# c\na.one failed reason\n", "server.txt");
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().errnum, EINVAL);
  EXPECT_NE(e.error().message.find("server.txt:2:"), std::string::npos) << e.error().message;
  EXPECT_NE(e.error().message.find("failed"), std::string::npos);
}

TEST(Expectations, RefusesALineWithoutAReason) {
  auto e = Expectations::parse("a.one fail   \n", "f");
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("f:1:"), std::string::npos);
  EXPECT_NE(e.error().message.find("no reason"), std::string::npos);
}

TEST(Expectations, RefusesACheckListedTwice) {
  auto e = Expectations::parse("a.one fail r\na.one pass r\n", "f");
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("f:2:"), std::string::npos);
  EXPECT_NE(e.error().message.find("line 1"), std::string::npos);
}

TEST(Expectations, LoadReportsAMissingFile) {
  auto e = Expectations::load("/nonexistent/expectations.txt");
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().errnum, ENOENT);
}

TEST(Expectations, NamesEntriesForChecksTheCatalogueLacks) {
  auto e = Expectations::parse("a.one fail r\na.typo fail r\n", "f");
  ASSERT_TRUE(e);
  const auto unknown = e->unknown_checks(two_checks());
  ASSERT_EQ(unknown.size(), 1u);
  EXPECT_EQ(unknown[0], "f:2: no check 'a.typo' in the catalogue");
}

TEST(Expectations, WithoutAnExpectationOnlyPassAndNotApplicableAreExpected) {
  EXPECT_FALSE(is_difference(Status::Pass, nullptr));
  EXPECT_FALSE(is_difference(Status::NotApplicable, nullptr));
  EXPECT_TRUE(is_difference(Status::Fail, nullptr));
  EXPECT_TRUE(is_difference(Status::Error, nullptr));
}

TEST(Expectations, WithAnExpectationEveryOtherOutcomeIsADifference) {
  const Expectation fail{"a.one", Status::Fail, "r", 1};
  EXPECT_FALSE(is_difference(Status::Fail, &fail));
  EXPECT_TRUE(is_difference(Status::Pass, &fail));  // an unexpected pass
  EXPECT_TRUE(is_difference(Status::Error, &fail));
  EXPECT_TRUE(is_difference(Status::NotApplicable, &fail));
}

}  // namespace
}  // namespace nbdref::conform
