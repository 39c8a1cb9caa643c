// nbdref-clause-coverage: which client-side requirements of the NBD spec
// have a test. Reads the clause table, scans the test sources and scripts
// for the ids they cite, and writes a report. Exit status 1 when a test
// cites an id the table does not have (a typo would count as coverage that
// is not there), 2 on a usage or input error.
//
//   nbdref-clause-coverage --clauses spec/clauses.tsv --report OUT.txt DIR...
#include <algorithm>
#include <fstream>
#include <iostream>
#include <string_view>

#include "citation_scan.hpp"
#include "clause_table.hpp"

namespace {

using namespace nbdref::coverage;

void write_report(std::ostream& out, const std::vector<Clause>& table, const Citations& cited,
                  const std::string& strip_prefix) {
  std::vector<const Clause*> covered, missing;
  for (const Clause& c : table) {
    if (!is_wire_client_requirement(c)) continue;
    (cited.contains(c.id) ? covered : missing).push_back(&c);
  }
  const std::size_t total = covered.size() + missing.size();
  out << "Client-side clause coverage: " << covered.size() << " of " << total
      << " wire-observable requirements (MUST, MUST NOT, SHOULD, SHOULD NOT) are cited by a "
         "test.\n";
  auto path = [&](const std::string& p) {
    return p.starts_with(strip_prefix) ? p.substr(strip_prefix.size()) : p;
  };
  out << "\nNot covered (" << missing.size() << "):\n";
  for (const Clause* c : missing) {
    out << "  " << c->id << "  " << c->level << "  " << c->summary << '\n';
  }
  out << "\nCovered (" << covered.size() << "):\n";
  for (const Clause* c : covered) {
    out << "  " << c->id << "  " << c->level << "  " << c->summary << "\n      by";
    for (const std::string& file : cited.at(c->id)) out << ' ' << path(file);
    out << '\n';
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string clauses, report, strip;
  std::vector<std::string> roots;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if ((arg == "--clauses" || arg == "--report" || arg == "--strip") && i + 1 < argc) {
      (arg == "--clauses" ? clauses : arg == "--report" ? report : strip) = argv[++i];
    } else if (arg.starts_with("--")) {
      std::cerr << "nbdref-clause-coverage: unknown option " << arg << '\n';
      return 2;
    } else {
      roots.emplace_back(arg);
    }
  }
  if (clauses.empty() || roots.empty()) {
    std::cerr << "usage: nbdref-clause-coverage --clauses TSV [--report FILE] [--strip PREFIX] "
                 "DIR...\n";
    return 2;
  }
  try {
    const std::vector<Clause> table = read_clause_table(clauses);
    const Citations cited = scan_citations(roots, {".cpp", ".hpp", ".c", ".nbd"});
    int status = 0;
    for (const auto& citation : cited) {
      const std::string& id = citation.first;
      const auto& files = citation.second;
      const bool known =
          std::any_of(table.begin(), table.end(), [&](const Clause& c) { return c.id == id; });
      if (!known) {
        std::cerr << "nbdref-clause-coverage: " << id << " is not in " << clauses << " (cited by "
                  << *files.begin() << ")\n";
        status = 1;
      }
    }
    if (report.empty()) {
      write_report(std::cout, table, cited, strip);
    } else {
      std::ofstream out(report);
      write_report(out, table, cited, strip);
      std::ifstream back(report);
      std::string first;
      std::getline(back, first);
      std::cout << first << "\nReport: " << report << '\n';
    }
    return status;
  } catch (const std::exception& e) {
    std::cerr << "nbdref-clause-coverage: " << e.what() << '\n';
    return 2;
  }
}
