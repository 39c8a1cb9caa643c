// nbdref-info: tells a person (or, with --json, a program) what an NBD
// server offers, using only the public C++ API.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <nbdref/client.hpp>

#include "command_line.hpp"
#include "extent_map.hpp"
#include "json_report.hpp"
#include "report_collector.hpp"
#include "step_error.hpp"
#include "target.hpp"
#include "text_report.hpp"
#include "usage_error.hpp"

namespace nbdref::info {
namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

// Says goodbye the way the protocol asks (NBD_OPT_ABORT in negotiation,
// NBD_CMD_DISC in transmission). Everything wanted has been read by now, so
// a server that hangs up first changes nothing and is not reported.
void leave(Client& client) {
  try {
    if (client.is_negotiating()) {
      client.opt_abort();
    } else if (client.is_ready()) {
      client.shutdown();
    }
  } catch (const ClientError&) {
  }
}

template <class Report>
void print(const Invocation& inv, const Report& report) {
  if (inv.json) {
    print_json(std::cout, report);
  } else {
    print_text(std::cout, report);
  }
}

// Returns the exit status: an export that was listed but could not be
// described is in the report and also fails the run.
int run(const Invocation& inv) {
  Client client;
  prepare_for_report(client);
  connect(client, inv.target);
  // A URI names its export; connecting took the name from it.
  const std::string export_name =
      inv.target.kind == Target::Kind::Uri ? client.export_name() : inv.export_name;
  switch (inv.mode) {
    case Mode::Report: {
      const ServerReport report = report_export(client, export_name);
      leave(client);
      print(inv, report);
      return 0;
    }
    case Mode::List: {
      const ServerReport report = report_listed_exports(client);
      leave(client);
      print(inv, report);
      int status = 0;
      for (const auto& e : report.exports) {
        if (e.failure) {
          std::cerr << "nbdref-info: " << *e.failure << "\n";
          status = kExitFailure;
        }
      }
      return status;
    }
    case Mode::Map: {
      const ExtentMap map = map_extents(client, export_name, inv.map_context);
      leave(client);
      print(inv, map);
      return 0;
    }
  }
  return kExitFailure;
}

}  // namespace
}  // namespace nbdref::info

int main(int argc, char** argv) {
  using namespace nbdref::info;
  const std::vector<const char*> words(argv, argv + argc);
  Invocation inv;
  try {
    inv = parse_command_line(words);
  } catch (const UsageError& e) {
    std::cerr << "nbdref-info: " << e.what() << "\n" << usage_line();
    return kExitUsage;
  }
  if (inv.help) {
    std::cout << help_text();
    return 0;
  }
  int status;
  try {
    status = run(inv);
  } catch (const UsageError& e) {
    // A URI the library refused to read.
    std::cerr << "nbdref-info: " << e.what() << "\n" << usage_line();
    return kExitUsage;
  } catch (const StepError& e) {
    std::cerr << "nbdref-info: " << e.what() << "\n";
    return kExitFailure;
  }
  if (!(std::cout << std::flush)) {
    std::cerr << "nbdref-info: cannot write the report to standard output\n";
    return kExitFailure;
  }
  return status;
}
