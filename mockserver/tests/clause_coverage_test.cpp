// The pieces of the clause coverage report: reading the catalogue, which
// rows a client-side report counts, and finding the ids tests cite.
#include <gtest/gtest.h>

#include <fstream>
#include <stdexcept>

#include "citation_scan.hpp"
#include "clause_table.hpp"
#include "support/temp_dir.hpp"

namespace nbdref::coverage {
namespace {

using test::TempDir;

TEST(ClauseTable, ReadsEveryRowOfTheProjectsCatalogue) {
  const auto table = read_clause_table(NBDREF_CLAUSES_TSV);
  ASSERT_GT(table.size(), 500u);
  EXPECT_EQ(table.front().id, "S-GEN-001");
  std::size_t wire_client = 0;
  for (const Clause& c : table) wire_client += is_wire_client_requirement(c) ? 1 : 0;
  // The catalogue's own count: 106 C- + 16 X-C- + 1 X-B- (the U- rows are
  // the URI issue's).
  EXPECT_EQ(wire_client, 123u);
}

TEST(ClauseTable, ARowWithoutSixFieldsIsAnErrorNamingTheLine) {
  TempDir dir("nbdref-coverage");
  const std::string path = dir.file("bad.tsv");
  std::ofstream(path) << "id\trole\tlevel\tsection\ttestable\tsummary\nC-HS-001\tclient\tMUST\n";
  try {
    read_clause_table(path);
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), path + ":2: expected 6 fields, found 3");
  }
}

TEST(ClauseTable, OnlyWireObservableClientRequirementsCount) {
  EXPECT_TRUE(is_wire_client_requirement({"C-HS-003", "client", "SHOULD", "", "wire", ""}));
  EXPECT_TRUE(is_wire_client_requirement({"X-C-016", "client", "MUST NOT", "", "wire", ""}));
  EXPECT_TRUE(is_wire_client_requirement({"X-B-001", "both", "MUST", "", "wire", ""}));
  EXPECT_FALSE(is_wire_client_requirement({"C-OPT-001", "client", "MAY", "", "wire", ""}));
  EXPECT_FALSE(is_wire_client_requirement({"C-GEN-004", "client", "MUST", "", "internal", ""}));
  EXPECT_FALSE(is_wire_client_requirement({"S-OPT-020", "server", "MUST", "", "wire", ""}));
  EXPECT_FALSE(is_wire_client_requirement({"U-GEN-001", "client", "MUST", "", "wire", ""}));
}

TEST(CitationScan, FindsEveryIdFormInTheChosenFilesOnly) {
  TempDir dir("nbdref-coverage");
  std::ofstream(dir.file("a_test.cpp")) << "// C-HS-003 (proto.md) and X-C-016, S-OPT-020\n";
  std::ofstream(dir.file("b.nbd")) << "#@ clauses X-B-001 C-TX-007\n";
  std::ofstream(dir.file("notes.txt")) << "C-TX-099\n";
  std::ofstream(dir.file("c_test.cpp")) << "XC-HS-001 C-HS-0012 c-hs-001 C-HS-01\n";
  const Citations found = scan_citations({dir.path()}, {".cpp", ".nbd"});
  std::set<std::string> ids;
  for (const auto& entry : found) ids.insert(entry.first);
  EXPECT_EQ(ids,
            (std::set<std::string>{"C-HS-003", "C-TX-007", "S-OPT-020", "X-B-001", "X-C-016"}));
  EXPECT_EQ(found.at("C-HS-003"), std::set<std::string>{dir.file("a_test.cpp")});
}

}  // namespace
}  // namespace nbdref::coverage
