// The catalogue: selection by glob, refusal of duplicate or incomplete
// checks, checks that may take the server down kept last, and the standard
// catalogue's consistency with clauses.tsv and uncovered.tsv (every clause
// without a check has a written reason, and only those).
#include <gtest/gtest.h>

#include "runner/outcome.hpp"

#include <set>

#include "checks/standard_catalogue.hpp"
#include "runner/clause_table.hpp"
#include "runner/coverage.hpp"
#include "runner/uncovered_reasons.hpp"

namespace nbdref::conform {
namespace {

Outcome dummy(CheckContext&) {
  return {};
}

Catalogue small() {
  Catalogue c;
  c.add({"hs.one", "handshake", {"S-HS-004"}, Level::Must, "d", &dummy});
  c.add({"opt.list", "options", {"S-OPT-007"}, Level::Must, "d", &dummy});
  c.add({"opt.list-data", "options", {"S-OPT-008"}, Level::Should, "d", &dummy});
  return c;
}

std::vector<std::string> ids(const std::vector<const Check*>& checks) {
  std::vector<std::string> out;
  for (const Check* c : checks) out.push_back(c->id);
  return out;
}

TEST(Catalogue, AddNumbersChecksInOrder) {
  const Catalogue c = small();
  EXPECT_EQ(c.checks()[2].index, 2u);
  EXPECT_EQ(c.areas(), (std::vector<std::string>{"handshake", "options"}));
}

TEST(Catalogue, RefusesDuplicateIdsAndIncompleteChecks) {
  Catalogue c = small();
  EXPECT_THROW(c.add({"hs.one", "handshake", {"S-HS-004"}, Level::Must, "d", &dummy}),
               std::logic_error);
  EXPECT_THROW(c.add({"hs.two", "handshake", {}, Level::Must, "d", &dummy}), std::logic_error);
  EXPECT_THROW(c.add({"hs.three", "handshake", {"S-HS-004"}, Level::Must, "d", nullptr}),
               std::logic_error);
}

TEST(Catalogue, ChecksThatEndangerTheServerRunLast) {
  Catalogue c = small();
  c.add({"int.risky", "integrity", {"S-TX-012"}, Level::MustNot, "d", &dummy, true});
  c.add({"int.risky-too", "integrity", {"S-TX-012"}, Level::MustNot, "d", &dummy, true});
  EXPECT_EQ(c.checks().back().id, "int.risky-too");
  EXPECT_THROW(c.add({"hs.later", "handshake", {"S-HS-004"}, Level::Must, "d", &dummy}),
               std::logic_error);
}

TEST(Catalogue, SelectsByOnlyAndSkipGlobs) {
  const Catalogue c = small();
  EXPECT_EQ(ids(c.select({}, {})).size(), 3u);
  EXPECT_EQ(ids(c.select({"opt.*"}, {})), (std::vector<std::string>{"opt.list", "opt.list-data"}));
  EXPECT_EQ(ids(c.select({"opt.*"}, {"*-data"})), (std::vector<std::string>{"opt.list"}));
  EXPECT_EQ(ids(c.select({"hs.one", "opt.list"}, {})),
            (std::vector<std::string>{"hs.one", "opt.list"}));
  EXPECT_TRUE(c.select({"nothing.*"}, {}).empty());
}

TEST(Catalogue, GlobsMatchWholeIds) {
  EXPECT_TRUE(id_matches("opt.*", "opt.list"));
  EXPECT_TRUE(id_matches("opt.list?data", "opt.list-data"));
  EXPECT_FALSE(id_matches("opt", "opt.list"));
}

class StandardCatalogue : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = load_clause_table(NBDREF_CONFORM_CLAUSES);
    ASSERT_TRUE(loaded) << loaded.error().message;
    table_ = *loaded;
  }
  std::vector<Clause> table_;
};

TEST_F(StandardCatalogue, CitesOnlyServerSideClausesOfTheTable) {
  for (const Check& check : standard_catalogue().checks()) {
    for (const std::string& id : check.clauses) {
      auto it =
          std::find_if(table_.begin(), table_.end(), [&id](const Clause& c) { return c.id == id; });
      ASSERT_NE(it, table_.end()) << check.id << " cites " << id << ", not in clauses.tsv";
      EXPECT_NE(it->role, "client") << check.id << " cites the client-side " << id;
    }
  }
}

TEST_F(StandardCatalogue, IdsStartWithTheirAreaPrefixAndAreUnique) {
  std::set<std::string> seen;
  for (const Check& check : standard_catalogue().checks()) {
    EXPECT_TRUE(seen.insert(check.id).second) << check.id;
    EXPECT_NE(check.id.find('.'), std::string::npos) << check.id;
    EXPECT_FALSE(check.description.empty()) << check.id;
  }
}

TEST_F(StandardCatalogue, TableHasThe268ServerRequirementsTheIssueCounts) {
  const Coverage coverage = measure_coverage(table_, standard_catalogue());
  EXPECT_EQ(coverage.total(), 268u);
  EXPECT_TRUE(coverage.unknown_ids.empty());
  EXPECT_GT(coverage.covered_count(), 0u);
}

std::string joined(const std::vector<std::string>& ids) {
  std::string out;
  for (const std::string& id : ids) out += " " + id;
  return out;
}

TEST_F(StandardCatalogue, EveryUncoveredClauseHasAReasonAndOnlyThose) {
  auto reasons = load_uncovered_reasons(NBDREF_CONFORM_UNCOVERED);
  ASSERT_TRUE(reasons) << reasons.error().message;
  const Coverage coverage = measure_coverage(table_, standard_catalogue(), *reasons);
  EXPECT_TRUE(coverage.unexplained.empty())
      << "uncovered clauses without a reason in uncovered.tsv:" << joined(coverage.unexplained);
  EXPECT_TRUE(coverage.stray_reasons.empty())
      << "uncovered.tsv gives reasons for covered clauses or for ids that are no server "
         "requirement:"
      << joined(coverage.stray_reasons);
  EXPECT_EQ(coverage.reasons.size(), coverage.uncovered.size());
}

TEST_F(StandardCatalogue, ChecksThatEndangerTheServerComeLast) {
  const auto& checks = standard_catalogue().checks();
  ASSERT_FALSE(checks.empty());
  EXPECT_TRUE(checks.back().endangers_server) << checks.back().id;
}

TEST(Coverage, CountsPerAreaAndListsUncovered) {
  auto table = parse_clause_table(
      "id\trole\tlevel\tsection\ttestable\tsummary\n"
      "S-HS-004\tserver\tMUST\ts\twire\tcloses on unknown flags\n"
      "S-HS-007\tserver\tMAY\ts\twire\tmay disconnect\n"
      "S-OPT-007\tserver\tMUST\ts\twire\tlist replies\n"
      "S-OPT-008\tserver\tSHOULD\ts\twire\tlist with data\n"
      "S-OPT-999\tserver\tMUST\ts\tinternal\tnot observable\n"
      "C-HS-001\tclient\tMUST\ts\twire\tclient side\n",
      "t.tsv");
  ASSERT_TRUE(table) << table.error().message;
  const Catalogue c = small();
  const Coverage coverage = measure_coverage(*table, c);
  EXPECT_EQ(coverage.total(), 3u);  // MAY, internal and client rows do not count
  EXPECT_EQ(coverage.covered_count(), 3u);
  ASSERT_EQ(coverage.areas.size(), 2u);
  EXPECT_EQ(coverage.areas[0].area, "S-HS");
  EXPECT_EQ(coverage.areas[1].covered, 2u);
  const std::string text = coverage_text(coverage, c);
  EXPECT_NE(text.find("3 of 3"), std::string::npos) << text;
  EXPECT_NE(text.find("opt.list-data"), std::string::npos);
}

TEST(Coverage, ShowsWhyAClauseHasNoCheckAndFindsReasonsOutOfDate) {
  auto table = parse_clause_table(
      "id\trole\tlevel\tsection\ttestable\tsummary\n"
      "S-HS-004\tserver\tMUST\ts\twire\tcloses on unknown flags\n"
      "S-HS-013\tserver\tSHOULD\ts\twire\tanswers SHUTDOWN while shutting down\n"
      "S-TX-009\tserver\tSHOULD\ts\twire\tcompletes requests on shutdown\n",
      "t.tsv");
  ASSERT_TRUE(table) << table.error().message;
  auto reasons = parse_uncovered_reasons(
      "id\treason\n"
      "S-HS-013\tneeds a server shutdown\n"
      "S-HS-004\tstale: it has a check now\n",
      "u.tsv");
  ASSERT_TRUE(reasons) << reasons.error().message;
  const Catalogue c = small();
  const Coverage coverage = measure_coverage(*table, c, *reasons);
  EXPECT_EQ(coverage.unexplained, (std::vector<std::string>{"S-TX-009"}));
  EXPECT_EQ(coverage.stray_reasons, (std::vector<std::string>{"S-HS-004"}));
  const std::string text = coverage_text(coverage, c);
  EXPECT_NE(text.find("why not: needs a server shutdown"), std::string::npos) << text;
  EXPECT_NE(text.find("why not: (no reason given)"), std::string::npos) << text;
}

TEST(UncoveredReasons, RefusesMalformedRowsAndIdsGivenTwice) {
  EXPECT_FALSE(parse_uncovered_reasons("id\treason\nS-HS-013\n", "u.tsv"));
  EXPECT_FALSE(parse_uncovered_reasons("id\treason\nS-HS-013\t\n", "u.tsv"));
  auto twice = parse_uncovered_reasons("id\treason\nS-HS-013\ta\nS-HS-013\tb\n", "u.tsv");
  ASSERT_FALSE(twice);
  EXPECT_NE(twice.error().message.find("u.tsv:3:"), std::string::npos) << twice.error().message;
}

TEST(ClauseTable, RefusesARowWithTheWrongFieldCount) {
  auto table = parse_clause_table("header\nS-HS-004\tserver\tMUST\n", "t.tsv");
  ASSERT_FALSE(table);
  EXPECT_NE(table.error().message.find("t.tsv:2:"), std::string::npos);
}

}  // namespace
}  // namespace nbdref::conform
