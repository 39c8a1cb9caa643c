// nbdref-mock: plays a scripted NBD server for the clients that connect, or
// relays them to a real server and records both sides (--relay).
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "command_line.hpp"
#include "connection_handlers.hpp"
#include "connection_pool.hpp"
#include "listening_socket.hpp"
#include "relay/relay_target.hpp"
#include "script/parser.hpp"
#include "script/printer.hpp"
#include "script_help.hpp"
#include "server/channel.hpp"

namespace {

using namespace nbdref::mock;

constexpr int EXIT_CLIENT_FAILED = 1;
constexpr int EXIT_USAGE = 2;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw cli::UsageError("cannot read the script " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Accepts connections as the command line says and serves each with `handler`.
int serve(const cli::Invocation& inv, const cli::ConnectionHandler& handler) {
  cli::ConnectionPool pool(handler);

  if (inv.listen == cli::Listen::Stdin) {
    FdChannel channel(STDIN_FILENO, STDOUT_FILENO, false);
    pool.run_here(channel);
    return pool.wait_all() ? 0 : EXIT_CLIENT_FAILED;
  }

  auto listener = [&] {
    switch (inv.listen) {
      case cli::Listen::Unix:
        return cli::ListeningSocket::unix_socket(inv.unix_path);
      case cli::Listen::Tcp:
        return cli::ListeningSocket::tcp_loopback(inv.tcp_port);
      default:
        return cli::ListeningSocket::from_systemd();
    }
  }();
  if (inv.listen == cli::Listen::Tcp) {
    std::cout << listener.port() << std::endl;
    if (!inv.port_file.empty()) {
      // Written under another name first, so a reader never sees half a port.
      const std::string temporary = inv.port_file + ".writing";
      std::ofstream(temporary) << listener.port() << '\n';
      std::rename(temporary.c_str(), inv.port_file.c_str());
    }
  }
  for (std::uint64_t n = 0; inv.connections == 0 || n < inv.connections; ++n) {
    pool.start(std::make_unique<FdChannel>(listener.accept_client()));
  }
  return pool.wait_all() ? 0 : EXIT_CLIENT_FAILED;
}

int play_script(const cli::Invocation& inv) {
  const auto script = script::parse_script(read_file(inv.script_path));
  if (!script) {
    std::cerr << "nbdref-mock: " << script.error().describe(inv.script_path) << '\n';
    return EXIT_USAGE;
  }
  if (inv.action == cli::Action::Check) {
    std::cout << inv.script_path << ": " << script->steps.size() << " steps, no errors\n";
    return 0;
  }
  if (inv.action == cli::Action::Print) {
    std::cout << script::print_script(*script);
    return 0;
  }
  std::unique_ptr<std::ofstream> transcript_file;
  std::ostream* transcript = nullptr;
  if (inv.transcript_path == "-") {
    transcript = &std::cerr;
  } else if (!inv.transcript_path.empty()) {
    transcript_file = std::make_unique<std::ofstream>(inv.transcript_path);
    if (!*transcript_file) throw cli::UsageError("cannot write " + inv.transcript_path);
    transcript = transcript_file.get();
  }
  cli::ScriptConnections connections(*script, inv.timeout,
                                     {&std::cerr, transcript, inv.transcript_bytes});
  return serve(inv, [&](Channel& channel, std::uint64_t number) {
    return connections.play(channel, number);
  });
}

int relay_to_server(const cli::Invocation& inv) {
  auto target = relay::parse_relay_target(inv.relay_target);
  if (!target) throw cli::UsageError("--relay: " + target.error());
  relay::RelayOptions options;
  options.target = std::move(*target);
  options.record_dir = inv.record_dir;
  if (!options.record_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options.record_dir, ec);
    if (ec) {
      throw cli::UsageError("--record: cannot create " + options.record_dir + ": " + ec.message());
    }
  }
  cli::RelayConnections connections(std::move(options), std::cerr);
  return serve(inv, [&](Channel& channel, std::uint64_t number) {
    return connections.relay(channel, number);
  });
}

int run(int argc, char** argv) {
  const cli::Invocation inv =
      cli::parse_command_line(std::span<const char* const>(argv, static_cast<std::size_t>(argc)),
                              cli::ListeningSocket::systemd_passed_one());
  switch (inv.action) {
    case cli::Action::Help:
      std::cout << cli::help_text();
      return 0;
    case cli::Action::HelpScript:
      std::cout << cli::script_help_text();
      return 0;
    case cli::Action::Relay:
      return relay_to_server(inv);
    default:
      return play_script(inv);
  }
}

}  // namespace

int main(int argc, char** argv) {
  // A client that hangs up must end its connection's verdict, not the server.
  std::signal(SIGPIPE, SIG_IGN);
  try {
    return run(argc, argv);
  } catch (const cli::UsageError& e) {
    std::cerr << "nbdref-mock: " << e.what() << '\n' << cli::usage_line() << '\n';
    return EXIT_USAGE;
  } catch (const std::exception& e) {
    std::cerr << "nbdref-mock: " << e.what() << '\n';
    return EXIT_USAGE;
  }
}
