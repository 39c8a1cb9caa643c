#include "command_line.hpp"

#include <charconv>
#include <limits>
#include <string_view>

namespace nbdref::mock::cli {
namespace {

std::uint64_t parse_count(std::string_view option, std::string_view text, std::uint64_t max) {
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size() || n > max) {
    throw UsageError(std::string(option) + ": '" + std::string(text) + "' is not a number up to " +
                     std::to_string(max));
  }
  return n;
}

// "250ms", "2s" or plain milliseconds.
std::chrono::milliseconds parse_duration(std::string_view text) {
  std::uint64_t scale = 1;
  std::string_view digits = text;
  if (digits.ends_with("ms")) {
    digits.remove_suffix(2);
  } else if (digits.ends_with("s")) {
    digits.remove_suffix(1);
    scale = 1000;
  }
  const std::uint64_t n = parse_count("--timeout", digits, std::uint64_t{24} * 3600 * 1000);
  return std::chrono::milliseconds(n * scale);
}

}  // namespace

const char* usage_line() {
  return "usage: nbdref-mock [--unix PATH | --tcp PORT | --stdin] [--connections N] "
         "[--transcript FILE] [--hex] [--timeout DURATION] SCRIPT\n"
         "       nbdref-mock [--unix PATH | --tcp PORT | --stdin] [--connections N] "
         "--relay TARGET [--record DIR]\n"
         "       nbdref-mock --check SCRIPT | --print SCRIPT | --help | --help-script";
}

std::string help_text() {
  return std::string(usage_line()) +
         "\n\n"
         "Plays SCRIPT, a scripted NBD server conversation, against the clients that\n"
         "connect, and says whether each client did what the script expected; or,\n"
         "with --relay, forwards them to a real server and records what passes.\n\n"
         "Where to listen (one of):\n"
         "  --unix PATH        a Unix socket; PATH appears once the socket accepts\n"
         "  --tcp PORT         TCP on 127.0.0.1; 0 picks a free port, printed on stdout\n"
         "  --port-file FILE   with --tcp, also write the port to FILE once listening\n"
         "  --stdin            one connection on stdin and stdout (for nbd_connect_command)\n"
         "  (none)             under systemd socket activation, the socket passed in\n\n"
         "Options:\n"
         "  --connections N    serve N connections, each from the script's start, at the\n"
         "                     same time if they overlap; 0 serves until killed (default 1)\n"
         "  --transcript FILE  write every message sent and received to FILE (- for stderr)\n"
         "  --hex              with --transcript, the bytes too\n"
         "  --timeout D        how long an expectation waits by default (10s; 250ms, 2s)\n"
         "  --check            only parse SCRIPT, reporting the first error\n"
         "  --print            parse SCRIPT and print it back in canonical form\n"
         "  --help-script      every step of the script language and its keys\n\n"
         "Relaying, instead of a script:\n"
         "  --relay TARGET     forward each client byte for byte to the real server at\n"
         "                     TARGET: unix:PATH, HOST:PORT or [IPV6]:PORT\n"
         "  --record DIR       with --relay, write each connection N to DIR (created if\n"
         "                     missing): conn-N.client.bin and conn-N.server.bin hold\n"
         "                     every byte each side sent, conn-N.timeline how they\n"
         "                     interleaved\n\n"
         "Each connection's verdict goes to stderr. Exit status: 0 every connection\n"
         "completed the script (relayed: reached the server and closed in order),\n"
         "1 one did not, 2 a bad command line or script.\n";
}

Invocation parse_command_line(std::span<const char* const> argv, bool systemd) {
  Invocation inv;
  bool where_given = false;
  bool timeout_given = false;
  auto set_listen = [&](Listen l) {
    if (where_given) throw UsageError("give only one of --unix, --tcp and --stdin");
    where_given = true;
    inv.listen = l;
  };
  for (std::size_t i = 1; i < argv.size(); ++i) {
    const std::string_view arg = argv[i];
    auto value = [&]() -> std::string_view {
      if (i + 1 >= argv.size()) throw UsageError(std::string(arg) + " needs a value");
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      inv.action = Action::Help;
      return inv;
    } else if (arg == "--help-script") {
      inv.action = Action::HelpScript;
      return inv;
    } else if (arg == "--check") {
      inv.action = Action::Check;
    } else if (arg == "--print") {
      inv.action = Action::Print;
    } else if (arg == "--unix") {
      set_listen(Listen::Unix);
      inv.unix_path = value();
    } else if (arg == "--tcp") {
      set_listen(Listen::Tcp);
      inv.tcp_port = static_cast<std::uint16_t>(parse_count(arg, value(), 65535));
    } else if (arg == "--port-file") {
      inv.port_file = value();
    } else if (arg == "--stdin") {
      set_listen(Listen::Stdin);
    } else if (arg == "--connections") {
      inv.connections = parse_count(arg, value(), std::numeric_limits<std::uint32_t>::max());
    } else if (arg == "--transcript") {
      inv.transcript_path = value();
    } else if (arg == "--hex") {
      inv.transcript_bytes = true;
    } else if (arg == "--timeout") {
      inv.timeout = parse_duration(value());
      timeout_given = true;
    } else if (arg == "--relay") {
      inv.relay_target = value();
    } else if (arg == "--record") {
      inv.record_dir = value();
    } else if (arg.starts_with("-") && arg != "-") {
      throw UsageError("unknown option " + std::string(arg));
    } else if (inv.script_path.empty()) {
      inv.script_path = arg;
    } else {
      throw UsageError("only one script, please: '" + std::string(arg) + "' is one too many");
    }
  }
  if (!inv.relay_target.empty()) {
    if (inv.action != Action::Play) throw UsageError("--relay plays no script to check or print");
    if (!inv.script_path.empty()) throw UsageError("--relay takes no script");
    if (!inv.transcript_path.empty() || timeout_given) {
      throw UsageError("--transcript, --hex and --timeout go with a script, not --relay");
    }
    inv.action = Action::Relay;
  } else if (!inv.record_dir.empty()) {
    throw UsageError("--record goes with --relay");
  }
  if (inv.action != Action::Relay && inv.script_path.empty()) throw UsageError("no script given");
  if (inv.action != Action::Play && inv.action != Action::Relay) return inv;
  if (!where_given && !systemd) {
    throw UsageError("where should clients connect? give --unix, --tcp or --stdin");
  }
  if (!inv.port_file.empty() && inv.listen != Listen::Tcp) {
    throw UsageError("--port-file goes with --tcp");
  }
  if (inv.listen == Listen::Stdin && inv.connections != 1) {
    throw UsageError("--stdin is one connection");
  }
  if (inv.transcript_bytes && inv.transcript_path.empty()) {
    throw UsageError("--hex goes with --transcript");
  }
  return inv;
}

}  // namespace nbdref::mock::cli
