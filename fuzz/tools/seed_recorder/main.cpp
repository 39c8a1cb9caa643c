// fuzz_seed_recorder: seeds for the fuzz targets, recorded from real
// conversations. Each mode configures a client exactly as the target's
// input will, talks to a server, writes the input that replays that
// conversation, and refuses to write one that would not (see
// handshake_recording.hpp and transmission_recording.hpp).
//
//   fuzz_seed_recorder handshake CONFIG --connect TARGET OUT
//       CONFIG: the handshake target's four configuration bytes in hex
//       ("170c0000"); the seed is those bytes and the server's stream.
//   fuzz_seed_recorder transmission FEATURES PLAN --connect TARGET
//                      [--export NAME] OUT
//       FEATURES: byte 0 of the transmission target's configuration in hex
//       (the reply forms and contexts are narrowed to what the server
//       grants; flags and size are the export's); PLAN: transmission_plan.hpp.
//   fuzz_seed_recorder hostile SCRIPT OUTDIR
//       plays a hostile-server script (mockserver/scripts/hostile) in this
//       process against the client its `#@` header describes, and writes
//       OUTDIR/handshake/hostile-NAME and, when the header's actions reach
//       transmission, OUTDIR/transmission/hostile-NAME.
//   --quiet MS: how long a silent server is waited for (default 1000).
// TARGET is unix:PATH or HOST:PORT, usually nbdref-mock --relay --record in
// front of the real server, so the conversation is also kept as it passed.
// Exit status: 0 every seed written, 1 a conversation gave no faithful
// seed, 2 a bad command line or an unreachable server.
//
// Another target's mode is a function from the server link to a
// Recording, and a line in MODES below.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "handshake_recording.hpp"
#include "handshake_setup.hpp"
#include "hostile_header.hpp"
#include "hostile_terms.hpp"
#include "relay/relay_target.hpp"
#include "script/parser.hpp"
#include "server/in_process_server.hpp"
#include "transmission_recording.hpp"
#include "transmission_setup.hpp"

namespace {

using namespace nbdref;
using namespace nbdref::fuzz::recorder;

constexpr int EXIT_NOT_FAITHFUL = 1;
constexpr int EXIT_USAGE = 2;

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Arguments {
  std::vector<std::string> positional;
  std::string connect;
  std::string export_name;
  std::chrono::milliseconds quiet{1000};
};

Arguments parse_arguments(int argc, char** argv) {
  Arguments a;
  for (int i = 2; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw UsageError(std::string(arg) + " needs a value");
      return argv[++i];
    };
    if (arg == "--connect") {
      a.connect = value();
    } else if (arg == "--export") {
      a.export_name = value();
    } else if (arg == "--quiet") {
      a.quiet = std::chrono::milliseconds(std::stoul(value()));
    } else {
      a.positional.emplace_back(arg);
    }
  }
  return a;
}

std::vector<std::uint8_t> parse_hex(const std::string& text, std::size_t size) {
  if (text.size() != 2 * size) {
    throw UsageError("'" + text + "': want " + std::to_string(size) + " bytes in hex");
  }
  std::vector<std::uint8_t> bytes;
  for (std::size_t i = 0; i < text.size(); i += 2) {
    bytes.push_back(static_cast<std::uint8_t>(std::stoul(text.substr(i, 2), nullptr, 16)));
  }
  return bytes;
}

ServerLink connect_link(const std::string& text) {
  if (text.empty()) throw UsageError("--connect TARGET is needed");
  const auto target = mock::relay::parse_relay_target(text);
  if (!target) throw UsageError("--connect: " + target.error());
  auto socket = mock::relay::connect_target(*target, std::chrono::seconds(10));
  if (!socket) throw UsageError(socket.error());
  return ServerLink(std::move(*socket));
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Writes the seed, or says why there is none; true when written.
bool write_seed(const Recording& r, const std::filesystem::path& out) {
  if (!r.ok()) {
    std::cout << out.string() << ": no seed: " << r.problem << '\n';
    return false;
  }
  std::filesystem::create_directories(out.parent_path());
  std::ofstream(out, std::ios::binary)
      .write(reinterpret_cast<const char*>(r.seed.data()),
             static_cast<std::streamsize>(r.seed.size()));
  std::cout << out.string() << ": " << r.seed.size() << " bytes; " << r.summary << '\n';
  return true;
}

int handshake_mode(const Arguments& a) {
  if (a.positional.size() != 2) throw UsageError("handshake CONFIG --connect TARGET OUT");
  const auto bytes = parse_hex(a.positional[0], 4);
  ServerLink link = connect_link(a.connect);
  const Recording r = record_handshake(link, {bytes[0], bytes[1], bytes[2], bytes[3]}, a.quiet);
  return write_seed(r, a.positional[1]) ? 0 : EXIT_NOT_FAITHFUL;
}

int transmission_mode(const Arguments& a) {
  if (a.positional.size() != 3) {
    throw UsageError("transmission FEATURES PLAN --connect TARGET [--export NAME] OUT");
  }
  const std::uint8_t features = parse_hex(a.positional[0], 1)[0];
  const auto plan = parse_plan(a.positional[1]);
  if (!plan) throw UsageError("PLAN: " + plan.error());
  // The client the target's configuration describes, for the export named.
  const std::uint8_t config[4] = {features, 0, 0, 0};
  fuzz::FuzzInput in(config);
  fuzz::handshake::Setup negotiation;
  negotiation.config = fuzz::transmission::read_setup(in).config();
  negotiation.config.export_name = a.export_name;
  ServerLink link = connect_link(a.connect);
  const Recording r = record_transmission(link, negotiation, features, *plan, a.quiet);
  return write_seed(r, a.positional[2]) ? 0 : EXIT_NOT_FAITHFUL;
}

int hostile_mode(const Arguments& a) {
  if (a.positional.size() != 2) throw UsageError("hostile SCRIPT OUTDIR");
  const std::filesystem::path script_path = a.positional[0];
  const std::filesystem::path out = a.positional[1];
  const std::string text = read_text(script_path);
  const auto script = mock::script::parse_script(text);
  if (!script) throw UsageError(script.error().describe(script_path.string()));
  const auto header = mock::hostile::parse_header(text);
  if (!header) throw UsageError(script_path.string() + ": " + header.error());
  const HostileTerms terms = hostile_terms(*header);
  for (const auto& note : terms.notes) std::cout << script_path.string() << ": " << note << '\n';
  const std::string name = "hostile-" + script_path.stem().string();

  bool all = true;
  {
    mock::InProcessServer server(*script);
    ServerLink link{transport::UniqueFd(server.release_client_fd())};
    all &= write_seed(record_handshake(link, terms.handshake_config, a.quiet),
                      out / "handshake" / name);
  }
  if (!terms.plan.empty()) {
    fuzz::FuzzInput in(terms.handshake_config);
    const auto negotiation = fuzz::handshake::read_setup(in);
    const auto record = [&](std::uint8_t features) {
      mock::InProcessServer server(*script);
      ServerLink link{transport::UniqueFd(server.release_client_fd())};
      return record_transmission(link, negotiation, features, terms.plan, a.quiet);
    };
    Recording r = record(terms.transmission_features);
    // The target's handshake advertises no block sizes but its own: where
    // the script's made the client refuse commands that the replay would
    // send, the same conversation without strict checks replays.
    if (!r.ok() && (terms.transmission_features & fuzz::transmission::STRICT)) {
      Recording lax = record(terms.transmission_features & ~fuzz::transmission::STRICT);
      if (lax.ok()) r = std::move(lax);
    }
    all &= write_seed(r, out / "transmission" / name);
  }
  return all ? 0 : EXIT_NOT_FAITHFUL;
}

struct Mode {
  std::string_view name;
  int (*run)(const Arguments&);
};
constexpr Mode MODES[] = {
    {"handshake", handshake_mode},
    {"transmission", transmission_mode},
    {"hostile", hostile_mode},
};

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc < 2) throw UsageError("which mode? handshake, transmission or hostile");
    for (const Mode& mode : MODES) {
      if (argv[1] == mode.name) return mode.run(parse_arguments(argc, argv));
    }
    throw UsageError(std::string("unknown mode ") + argv[1]);
  } catch (const std::exception& e) {
    std::cerr << "fuzz_seed_recorder: " << e.what() << '\n';
    return EXIT_USAGE;
  }
}
