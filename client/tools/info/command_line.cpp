#include "command_line.hpp"

#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "usage_error.hpp"

namespace nbdref::info {
namespace {

// The context whose meaning every server shares (proto.md "base:allocation
// metadata context").
constexpr std::string_view kDefaultMapContext = "base:allocation";

// Walks the words of the command line. An option's value may follow it as
// the next word or be joined to it with '=' ("--export=NAME").
class Words {
 public:
  explicit Words(std::span<const char* const> argv) : argv_(argv) {}

  bool done() const { return next_ >= argv_.size(); }
  // The next word split into option and joined value.
  std::string_view take_option() {
    std::string_view word = argv_[next_++];
    joined_.reset();
    if (word.starts_with("--")) {
      if (const auto eq = word.find('='); eq != std::string_view::npos) {
        joined_ = word.substr(eq + 1);
        word = word.substr(0, eq);
      }
    }
    return word;
  }
  // The value of `option`: joined, or the next word.
  std::string_view value_of(std::string_view option) {
    if (joined_) return *std::exchange(joined_, std::nullopt);
    if (done()) throw UsageError(std::string(option) + " needs a value");
    return argv_[next_++];
  }
  // A value that may be left out: joined, or a next word that is neither an
  // option nor a target URI.
  std::optional<std::string_view> optional_value() {
    if (joined_) return std::exchange(joined_, std::nullopt);
    if (done()) return std::nullopt;
    const std::string_view next = argv_[next_];
    if (next.starts_with('-') || looks_like_uri(next)) return std::nullopt;
    return argv_[next_++];
  }
  void refuse_joined_value(std::string_view option) const {
    if (joined_) throw UsageError(std::string(option) + " takes no value");
  }
  std::vector<std::string> rest() {
    std::vector<std::string> words(argv_.begin() + static_cast<std::ptrdiff_t>(next_), argv_.end());
    next_ = argv_.size();
    return words;
  }

 private:
  std::span<const char* const> argv_;
  std::size_t next_ = 1;  // argv[0] is the program
  std::optional<std::string_view> joined_;
};

}  // namespace

Invocation parse_command_line(std::span<const char* const> argv) {
  Invocation inv;
  Words words(argv);
  std::optional<Target> target;
  bool export_given = false;
  const auto set_target = [&](Target t) {
    if (target) throw UsageError("give one target: a URI, --unix, --tcp or -- COMMAND");
    target = std::move(t);
  };
  const auto set_mode = [&](Mode mode) {
    if (inv.mode != Mode::Report && inv.mode != mode) {
      throw UsageError("--list and --map cannot be combined");
    }
    inv.mode = mode;
  };

  while (!words.done()) {
    const std::string_view option = words.take_option();
    if (option == "--") {
      words.refuse_joined_value(option);
      set_target(command_target(words.rest()));
    } else if (option == "--help" || option == "-h") {
      inv.help = true;
      return inv;
    } else if (looks_like_uri(option)) {
      set_target(uri_target(option));
    } else if (is_target_option(option)) {
      set_target(parse_target_option(option, words.value_of(option)));
    } else if (option == "--export") {
      inv.export_name = words.value_of(option);
      export_given = true;
    } else if (option == "--list") {
      words.refuse_joined_value(option);
      set_mode(Mode::List);
    } else if (option == "--map") {
      set_mode(Mode::Map);
      inv.map_context = words.optional_value().value_or(kDefaultMapContext);
      if (inv.map_context.empty()) throw UsageError("--map= needs a metadata context name");
    } else if (option == "--json") {
      words.refuse_joined_value(option);
      inv.json = true;
    } else if (!option.starts_with('-')) {
      throw UsageError("'" + std::string(option) +
                       "' is neither an option nor an NBD URI (nbd://HOST/EXPORT, "
                       "nbd+unix:///EXPORT?socket=PATH, ...)");
    } else {
      throw UsageError("unknown option '" + std::string(option) + "'");
    }
  }
  if (!target) {
    throw UsageError(
        "no server given: use an NBD URI, --unix PATH, --tcp HOST[:PORT] or -- COMMAND");
  }
  if (export_given && target->kind == Target::Kind::Uri) {
    throw UsageError("the URI names the export (its path); --export does not apply");
  }
  if (export_given && inv.mode == Mode::List) {
    throw UsageError("--list reports every export; --export does not apply");
  }
  inv.target = std::move(*target);
  return inv;
}

const char* usage_line() {
  return "usage: nbdref-info [--json] [--list | --map [CONTEXT]]\n"
         "                   (URI | [--export NAME] (--unix PATH | --tcp HOST[:PORT] |\n"
         "                                           -- COMMAND [ARGS...]))\n";
}

std::string help_text() {
  return std::string("nbdref-info: show what an NBD server offers.\n\n") + usage_line() +
         "\n"
         "Where the server is (exactly one):\n"
         "  URI                 an NBD URI, which names the export too:\n"
         "                        nbd://HOST[:PORT]/EXPORT (TCP; port 10809 unless given)\n"
         "                        nbd+unix:///EXPORT?socket=PATH (a Unix domain socket)\n"
         "                        nbd+vsock://CID[:PORT]/EXPORT (vsock)\n"
         "                      nbds... asks for TLS; percent-encode what URIs reserve\n"
         "                      (a space as %20); for example:\n"
         "                        nbdref-info 'nbd+unix:///?socket=/tmp/nbd.sock'\n"
         "  --unix PATH         a Unix domain socket\n"
         "  --tcp HOST[:PORT]   a TCP address; port 10809 unless given; write an IPv6\n"
         "                      address in brackets: --tcp [::1]:10809\n"
         "  -- COMMAND ARGS...  run COMMAND as the server, talking NBD on its stdin and\n"
         "                      stdout (for example: -- nbdkit -s memory 1G)\n"
         "\n"
         "What to show (default: the export's size, capabilities, block sizes and\n"
         "metadata contexts):\n"
         "  --export NAME       the export to look at (default: the empty name); a URI\n"
         "                      names it in its path instead\n"
         "  --list              every export the server lists, each with its details\n"
         "  --map [CONTEXT]     the export's extents and their flags for a metadata\n"
         "                      context (default: base:allocation)\n"
         "  --json              one JSON document instead of text\n"
         "  -h, --help          this text\n"
         "\n"
         "Exit status: 0 success, 1 the server could not be reached or failed,\n"
         "2 the command line was wrong.\n";
}

}  // namespace nbdref::info
