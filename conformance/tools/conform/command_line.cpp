#include "command_line.hpp"

#include <cerrno>
#include <charconv>

namespace nbdref::conform {
namespace {

void append_patterns(std::vector<std::string>& to, const std::string& value) {
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = value.find(',', start);
    const std::string pattern = value.substr(start, comma - start);
    if (!pattern.empty()) to.push_back(pattern);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
}

Result<std::chrono::milliseconds> parse_timeout(const std::string& text) {
  double seconds = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (ec != std::errc() || end != text.data() + text.size() || !(seconds > 0) || seconds > 3600) {
    return failure(EINVAL, "--timeout wants seconds between 0 and 3600, not '" + text + "'");
  }
  return std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
}

}  // namespace

Result<CommandLine> parse_command_line(const std::vector<std::string>& args) {
  CommandLine cl;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    if (arg == "--") {
      cl.command.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      if (cl.command.empty()) return failure(EINVAL, "'--' must be followed by a command");
      break;
    }
    std::optional<std::string> inline_value;
    if (arg.starts_with("--")) {
      if (const std::size_t eq = arg.find('='); eq != std::string::npos) {
        inline_value = arg.substr(eq + 1);
        arg.resize(eq);
      }
    }
    auto value = [&]() -> Result<std::string> {
      if (inline_value) return *inline_value;
      if (i + 1 >= args.size()) return failure(EINVAL, arg + " needs a value");
      return args[++i];
    };
    auto flag = [&](bool& target) -> Result<void> {
      if (inline_value) return failure(EINVAL, arg + " takes no value");
      target = true;
      return {};
    };
    Result<void> done;
    if (arg == "--only" || arg == "--skip") {
      auto v = value();
      if (!v) return tl::unexpected(v.error());
      append_patterns(arg == "--only" ? cl.only : cl.skip, *v);
    } else if (arg == "--expect" || arg == "--junit" || arg == "--json" || arg == "--clauses") {
      auto v = value();
      if (!v) return tl::unexpected(v.error());
      (arg == "--expect"  ? cl.expect_file
       : arg == "--junit" ? cl.junit_file
       : arg == "--json"  ? cl.json_file
                          : cl.clauses_file) = *v;
    } else if (arg == "--export") {
      auto v = value();
      if (!v) return tl::unexpected(v.error());
      cl.export_name = *v;
    } else if (arg == "--tls-certificates" || arg == "--tls-psk-file" || arg == "--tls-username") {
      auto v = value();
      if (!v) return tl::unexpected(v.error());
      (arg == "--tls-certificates" ? cl.tls_certificates
       : arg == "--tls-psk-file"   ? cl.tls_psk_file
                                   : cl.tls_username) = *v;
    } else if (arg == "--timeout") {
      auto v = value();
      if (!v) return tl::unexpected(v.error());
      auto t = parse_timeout(*v);
      if (!t) return tl::unexpected(t.error());
      cl.timeout = *t;
    } else if (arg == "--list") {
      done = flag(cl.list);
    } else if (arg == "--coverage") {
      done = flag(cl.coverage);
    } else if (arg == "-v" || arg == "--verbose") {
      done = flag(cl.verbose);
    } else if (arg == "--socket-activation") {
      done = flag(cl.socket_activation);
    } else if (arg == "-h" || arg == "--help") {
      done = flag(cl.help);
    } else if (arg.starts_with("-")) {
      return failure(EINVAL, "unknown option '" + arg + "'");
    } else if (cl.uri) {
      return failure(EINVAL, "more than one target: '" + *cl.uri + "' and '" + arg + "'");
    } else {
      cl.uri = arg;
    }
    if (!done) return tl::unexpected(done.error());
  }
  if (cl.help || cl.list || cl.coverage) return cl;
  if (cl.uri && !cl.command.empty()) {
    return failure(EINVAL, "give either a URI or '-- COMMAND', not both");
  }
  if (!cl.uri && cl.command.empty()) {
    return failure(EINVAL, "no target: give an NBD URI or '-- COMMAND ARGS...'");
  }
  if (cl.socket_activation && cl.command.empty()) {
    return failure(EINVAL, "--socket-activation needs '-- COMMAND'");
  }
  if (cl.tls_certificates && cl.tls_psk_file) {
    return failure(EINVAL, "give either --tls-certificates or --tls-psk-file, not both");
  }
  if (!cl.export_name.empty() && cl.uri) {
    return failure(EINVAL, "--export is for command targets; a URI names its export in its path");
  }
  return cl;
}

std::string usage_text() {
  return R"(Usage:
  nbdref-conform [OPTIONS] URI
  nbdref-conform [OPTIONS] [--socket-activation] [--export NAME] -- COMMAND [ARGS...]
  nbdref-conform --list | --coverage [--only PATTERNS] [--skip PATTERNS]

Checks an NBD server against the NBD protocol specification, one check per
requirement, each on fresh connections with a timeout.

Targets:
  URI                    nbd://HOST[:PORT]/EXPORT, nbd+unix:///EXPORT?socket=PATH,
                         nbd+vsock://CID[:PORT]/EXPORT; a server offering TLS:
                         nbds://[USER@]HOST[:PORT]/EXPORT?tls-certificates=DIR
                         (or tls-psk-file=FILE), nbds+unix://..., with
                         tls-hostname=NAME and tls-verify-peer=0 as wanted
  -- COMMAND ARGS...     a server started for every connection, speaking NBD on
                         its stdin/stdout (e.g. -- nbdkit -s memory 64M)
  --socket-activation    start COMMAND with a listening socket instead, as
                         systemd socket activation does
  --export NAME          the export to ask a command target for (default "")
  --tls-certificates DIR the target offers TLS: X.509 client credentials
                         (ca-cert.pem, client-cert.pem, client-key.pem in DIR)
  --tls-psk-file FILE    the target offers TLS: pre-shared keys (psktool format)
  --tls-username NAME    the PSK user (default: the local user)
  With TLS, every connection negotiates TLS first; the tls.* checks need it.

Options:
  --only PATTERNS        run only checks whose id matches a glob (comma-separated,
                         repeatable), e.g. --only 'opt.*,hs.*'
  --skip PATTERNS        leave out checks whose id matches
  --expect FILE          known deviations of this server (see conformance/expectations)
  --junit FILE           also write the results as JUnit XML
  --json FILE            also write the results as JSON
  --timeout SECONDS      budget of each check (default 10)
  -v, --verbose          print every check's transcript, bytes included
  --list                 print the catalogue of checks and exit
  --coverage             print which clauses of clauses.tsv have checks and exit
  --clauses FILE         the clause table (default: the one in the source tree);
                         uncovered.tsv beside it says why a clause has no check
  -h, --help             this text

Exit status: 0 when every outcome is as expected (without --expect: no failure
and no error), 1 when some differ, 2 on a usage error or an unreachable server.
)";
}

}  // namespace nbdref::conform
