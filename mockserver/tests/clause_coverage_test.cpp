// The pieces of the clause coverage report: reading the catalogue, which
// rows a client-side report counts, and finding the ids tests cite.
#include <gtest/gtest.h>

#include <fstream>
#include <stdexcept>
#include <string_view>

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
  EXPECT_FALSE(is_wire_client_requirement({"C-GEN-001", "client", "MUST", "", "internal", ""}));
  EXPECT_FALSE(is_wire_client_requirement({"S-OPT-020", "server", "MUST", "", "wire", ""}));
  EXPECT_FALSE(is_wire_client_requirement({"U-003", "client", "MUST", "", "wire", ""}));
}

TEST(CitationScan, FindsEveryIdFormInTheChosenFilesOnly) {
  TempDir dir("nbdref-coverage");
  // The ids are put together at run time, so the project's own coverage
  // report (which scans this file) does not count them as citations.
  auto id = [](std::string_view prefix, std::string_view digits) {
    return std::string(prefix) + "-" + std::string(digits);
  };
  std::ofstream(dir.file("a_test.cpp"))
      << "// " << id("C-HS", "003") << " (proto.md) and " << id("X-C", "016") << ", "
      << id("S-OPT", "020") << " " << id("U", "003") << "\n";
  std::ofstream(dir.file("b.nbd"))
      << "#@ clauses " << id("X-B", "001") << " " << id("C-TX", "007") << "\n";
  std::ofstream(dir.file("notes.txt")) << id("C-TX", "008") << "\n";
  std::ofstream(dir.file("c_test.cpp")) << "X" << id("C-HS", "001") << " " << id("C-HS", "0012")
                                        << " c-hs-001 " << id("C-HS", "01") << "\n";
  const Citations found = scan_citations({dir.path()}, {".cpp", ".nbd"});
  std::set<std::string> ids;
  for (const auto& entry : found) ids.insert(entry.first);
  EXPECT_EQ(ids, (std::set<std::string>{id("C-HS", "003"), id("C-TX", "007"), id("S-OPT", "020"),
                                        id("U", "003"), id("X-B", "001"), id("X-C", "016")}));
  EXPECT_EQ(found.at(id("C-HS", "003")), std::set<std::string>{dir.file("a_test.cpp")});
}

}  // namespace
}  // namespace nbdref::coverage
