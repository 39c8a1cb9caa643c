// nbdref-conform: runs the conformance catalogue against an NBD server and
// reports, per check, whether the server does what the specification
// requires. See usage_text() in command_line.cpp.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "checks/standard_catalogue.hpp"
#include "command_line.hpp"
#include "report/json_report.hpp"
#include "report/junit_report.hpp"
#include "report/progress_line.hpp"
#include "report/text_report.hpp"
#include "runner/coverage.hpp"
#include "runner/expectations.hpp"
#include "runner/runner.hpp"
#include "runner/uncovered_reasons.hpp"

namespace {

using namespace nbdref::conform;

constexpr int kExitAsExpected = 0;
constexpr int kExitDifferences = 1;
constexpr int kExitUsage = 2;

int usage_error(const std::string& message) {
  std::cerr << "nbdref-conform: " << message << "\n(see nbdref-conform --help)\n";
  return kExitUsage;
}

std::string padded(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

int print_list(const std::vector<const Check*>& checks) {
  std::string area;
  for (const Check* c : checks) {
    if (c->area != area) {
      area = c->area;
      std::cout << "\n" << area << "\n";
    }
    std::cout << "  " << padded(c->id, 36) << " " << padded(std::string(level_name(c->level)), 11)
              << " " << c->description << "\n"
              << "  " << padded("", 36) << " " << c->clause_list() << "\n";
  }
  std::cout << "\n" << checks.size() << " checks\n";
  return kExitAsExpected;
}

// The reasons for clauses without a check: uncovered.tsv beside the clause
// table at `table_path`, none when there is no such file.
nbdref::Result<UncoveredReasons> reasons_beside(const std::string& table_path) {
  const std::filesystem::path path =
      std::filesystem::path(table_path).replace_filename("uncovered.tsv");
  if (!std::filesystem::exists(path)) return UncoveredReasons{};
  return load_uncovered_reasons(path.string());
}

int print_coverage(const CommandLine& cl) {
  const std::string path = cl.clauses_file.value_or(NBDREF_CONFORM_CLAUSES);
  auto table = load_clause_table(path);
  if (!table) return usage_error(table.error().message);
  auto reasons = reasons_beside(path);
  if (!reasons) return usage_error(reasons.error().message);
  const Catalogue& catalogue = standard_catalogue();
  std::cout << coverage_text(measure_coverage(*table, catalogue, *reasons), catalogue);
  return kExitAsExpected;
}

bool write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out) {
    std::cerr << "nbdref-conform: cannot write " << path << "\n";
    return false;
  }
  return true;
}

int run(const CommandLine& cl) {
  Target target;
  if (cl.uri) {
    auto parsed = target_from_uri(*cl.uri);
    if (!parsed) return usage_error(parsed.error().message);
    target = *parsed;
  } else {
    target = command_target(cl.command, cl.socket_activation, cl.export_name);
  }
  if (cl.tls_certificates || cl.tls_psk_file || cl.tls_username) {
    if (cl.uri && !target.tls) {
      return usage_error(
          "TLS options with a plaintext URI: a server that offers TLS takes an "
          "nbds... URI");
    }
    if (!target.tls) target.tls = nbdref::tls::TlsOptions{};
    if (cl.tls_certificates) {
      target.tls->certificates_dir = cl.tls_certificates;
      target.tls->psk_file.reset();
    }
    if (cl.tls_psk_file) {
      target.tls->psk_file = cl.tls_psk_file;
      target.tls->certificates_dir.reset();
    }
    if (cl.tls_username) target.tls->username = *cl.tls_username;
    if (target.tls->username.empty()) target.tls->username = local_user_name();
  }

  const Catalogue& catalogue = standard_catalogue();
  std::optional<Expectations> expectations;
  if (cl.expect_file) {
    auto loaded = Expectations::load(*cl.expect_file);
    if (!loaded) return usage_error(loaded.error().message);
    const auto unknown = loaded->unknown_checks(catalogue);
    for (const std::string& u : unknown) std::cerr << "nbdref-conform: " << u << "\n";
    if (!unknown.empty()) return kExitUsage;
    expectations = std::move(*loaded);
  }

  const std::vector<const Check*> checks = catalogue.select(cl.only, cl.skip);
  if (checks.empty()) return usage_error("no check matches the --only / --skip patterns");

  std::string why;
  if (!server_answers(target, cl.timeout, why)) {
    std::cerr << "nbdref-conform: the server does not answer: " << why << "\n";
    return kExitUsage;
  }

  RunOptions options;
  options.timeout = cl.timeout;
  options.expectations = expectations ? &*expectations : nullptr;
  ProgressLine progress(stderr, ::isatty(STDERR_FILENO) == 1);
  const RunResult result = run_checks(target, checks, options, std::ref(progress));

  std::cout << text_report(result, cl.verbose) << std::flush;
  bool written = true;
  if (cl.junit_file) {
    auto xml = junit_report(result);
    if (!xml) {
      std::cerr << "nbdref-conform: " << xml.error().message << "\n";
      written = false;
    } else {
      written = write_file(*cl.junit_file, *xml) && written;
    }
  }
  if (cl.json_file)
    written = write_file(*cl.json_file, json_report(result, NBDREF_VERSION)) && written;
  if (!written) return kExitUsage;
  return result.summary().differences == 0 ? kExitAsExpected : kExitDifferences;
}

}  // namespace

int main(int argc, char** argv) {
  // Writes to a server that went away must fail with EPIPE, not kill us.
  std::signal(SIGPIPE, SIG_IGN);
  auto cl = parse_command_line(std::vector<std::string>(argv + 1, argv + argc));
  if (!cl) return usage_error(cl.error().message);
  if (cl->help) {
    std::cout << usage_text();
    return kExitAsExpected;
  }
  if (cl->list) return print_list(standard_catalogue().select(cl->only, cl->skip));
  if (cl->coverage) return print_coverage(*cl);
  return run(*cl);
}
