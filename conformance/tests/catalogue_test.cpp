// The catalogue: selection by glob, refusal of duplicate or incomplete
// checks, and the standard catalogue's consistency with clauses.tsv.
#include <gtest/gtest.h>

#include "runner/outcome.hpp"

#include <set>

#include "checks/standard_catalogue.hpp"
#include "runner/clause_table.hpp"
#include "runner/coverage.hpp"

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

TEST(ClauseTable, RefusesARowWithTheWrongFieldCount) {
  auto table = parse_clause_table("header\nS-HS-004\tserver\tMUST\n", "t.tsv");
  ASSERT_FALSE(table);
  EXPECT_NE(table.error().message.find("t.tsv:2:"), std::string::npos);
}

}  // namespace
}  // namespace nbdref::conform
