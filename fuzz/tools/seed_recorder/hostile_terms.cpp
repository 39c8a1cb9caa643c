#include "hostile_terms.hpp"

#include <libnbd.h>

#include <charconv>
#include <iterator>
#include <limits>
#include <string_view>

#include "handshake_setup.hpp"
#include "meta_context_names.hpp"
#include "transmission_setup.hpp"

namespace nbdref::fuzz::recorder {
namespace {

using mock::hostile::ActionKind;

// The C API's defaults, which the settings change.
struct ClientSettings {
  bool extended = true;
  bool structured = true;
  bool block_size = true;
  bool full_info = false;
  bool opt_mode = false;
  std::vector<std::string> contexts;
  std::uint32_t handshake_flags =
      LIBNBD_HANDSHAKE_FLAG_FIXED_NEWSTYLE | LIBNBD_HANDSHAKE_FLAG_NO_ZEROES;
  std::string export_name;
  std::uint8_t tls = 0;  // an index into handshake::TLS_MODES
  std::uint32_t strict = LIBNBD_STRICT_MASK;
};

std::uint64_t number(const std::string& text) {
  std::uint64_t n = 0;
  const int base = text.starts_with("0x") ? 16 : 10;
  const char* first = text.data() + (base == 16 ? 2 : 0);
  std::from_chars(first, text.data() + text.size(), n, base);
  return n;
}

ClientSettings settings_of(const mock::hostile::ScriptHeader& header) {
  ClientSettings s;
  if (header.pending_tls) s.tls = 2;
  for (const auto& setting : header.settings) {
    const std::string& k = setting.key;
    const bool yes = setting.value == "yes";
    if (k == "request-extended-headers") {
      s.extended = yes;
    } else if (k == "request-structured-replies") {
      s.structured = yes;
    } else if (k == "request-block-size") {
      s.block_size = yes;
    } else if (k == "full-info") {
      s.full_info = yes;
    } else if (k == "opt-mode") {
      s.opt_mode = yes;
    } else if (k == "meta-context") {
      s.contexts.push_back(setting.value);
    } else if (k == "handshake-flags") {
      s.handshake_flags = static_cast<std::uint32_t>(number(setting.value));
    } else if (k == "export-name") {
      s.export_name = setting.value;
    } else if (k == "tls") {
      s.tls = setting.value == "allow" ? 1 : setting.value == "require" ? 2 : 0;
    } else if (k == "strict") {
      s.strict = static_cast<std::uint32_t>(number(setting.value));
    }
  }
  return s;
}

// How many of META_CONTEXT_NAMES, in their order, the settings ask for.
unsigned context_count(const std::vector<std::string>& asked, std::vector<std::string>& notes) {
  unsigned n = 0;
  while (n < asked.size() && n < std::size(META_CONTEXT_NAMES) &&
         asked[n] == META_CONTEXT_NAMES[n]) {
    ++n;
  }
  if (n < asked.size()) notes.push_back("meta contexts beyond the target's list asked for");
  return n;
}

// The option an `opt-*` action starts, as a nibble of handshake bytes 2-3.
int option_nibble(ActionKind kind) {
  using engine::OptionKind;
  OptionKind wanted;
  switch (kind) {
    case ActionKind::OptExtendedHeaders:
      wanted = OptionKind::ExtendedHeaders;
      break;
    case ActionKind::OptStructuredReply:
      wanted = OptionKind::StructuredReply;
      break;
    case ActionKind::OptSetMetaContext:
      wanted = OptionKind::SetMetaContext;
      break;
    case ActionKind::OptListMetaContext:
      wanted = OptionKind::ListMetaContext;
      break;
    case ActionKind::OptGo:
      wanted = OptionKind::Go;
      break;
    case ActionKind::OptInfo:
      wanted = OptionKind::Info;
      break;
    case ActionKind::OptList:
      wanted = OptionKind::List;
      break;
    case ActionKind::OptAbort:
      wanted = OptionKind::Abort;
      break;
    default:
      return -1;
  }
  for (std::size_t i = 0; i < std::size(handshake::OPTION_KINDS); ++i) {
    if (handshake::OPTION_KINDS[i] == wanted) return static_cast<int>(i);
  }
  return -1;
}

// The command an action submits, as an index into transmission::TYPES.
int command_index(ActionKind kind) {
  switch (kind) {
    case ActionKind::Pread:
    case ActionKind::AioPread:
      return 0;
    case ActionKind::Pwrite:
      return 1;
    case ActionKind::Flush:
      return 2;
    case ActionKind::Trim:
      return 3;
    case ActionKind::Cache:
      return 4;
    case ActionKind::Zero:
      return 5;
    case ActionKind::BlockStatus:
      return 6;
    default:
      return -1;
  }
}

void add_command(const mock::hostile::Action& a, int type_index, HostileTerms& t) {
  PlanStep step;
  step.kind = PlanStep::Kind::Submit;
  step.submit.type_index = static_cast<std::uint8_t>(type_index);
  step.submit.flags = static_cast<std::uint8_t>(a.flags);
  if (a.flags > 0xff) t.notes.push_back("line " + std::to_string(a.line) + ": flags cut to 8 bits");
  if (a.args.size() >= 2) {
    if (a.args[0] > std::numeric_limits<std::uint32_t>::max() ||
        a.args[1] > std::numeric_limits<std::uint16_t>::max()) {
      t.notes.push_back("line " + std::to_string(a.line) +
                        ": offset or length cut to the target's 32 and 16 bits");
    }
    step.submit.offset = static_cast<std::uint32_t>(
        std::min<std::uint64_t>(a.args[0], std::numeric_limits<std::uint32_t>::max()));
    step.submit.length = static_cast<std::uint16_t>(
        std::min<std::uint64_t>(a.args[1], std::numeric_limits<std::uint16_t>::max()));
  }
  for (unsigned i = 0; i < a.copies; ++i) t.plan.push_back(step);
}

}  // namespace

HostileTerms hostile_terms(const mock::hostile::ScriptHeader& header) {
  HostileTerms t;
  const ClientSettings s = settings_of(header);

  std::uint8_t features = 0;
  if (s.extended) features |= handshake::EXTENDED_HEADERS;
  if (s.structured) features |= handshake::STRUCTURED_REPLIES;
  if (s.block_size) features |= handshake::BLOCK_SIZE;
  if (s.full_info) features |= handshake::FULL_INFO;
  const unsigned contexts = context_count(s.contexts, t.notes);
  features |= static_cast<std::uint8_t>(contexts << handshake::CONTEXT_COUNT_SHIFT);
  if (s.opt_mode) features |= handshake::OPT_MODE;
  if (s.export_name == "disk") {
    features |= handshake::EXPORT_DISK;
  } else if (!s.export_name.empty()) {
    t.notes.push_back("export name '" + s.export_name + "' is neither '' nor 'disk'");
  }
  std::uint8_t flags = s.tls;
  if (s.handshake_flags & LIBNBD_HANDSHAKE_FLAG_FIXED_NEWSTYLE) flags |= handshake::FIXED_NEWSTYLE;
  if (s.handshake_flags & LIBNBD_HANDSHAKE_FLAG_NO_ZEROES) flags |= handshake::NO_ZEROES;

  std::vector<std::uint8_t> nibbles;
  for (const auto& a : header.actions) {
    if (const int nibble = option_nibble(a.kind); nibble >= 0) {
      nibbles.push_back(static_cast<std::uint8_t>(nibble));
    }
  }
  if (nibbles.size() > 4) {
    t.notes.push_back("more than four options: the first four kept");
    nibbles.resize(4);
  }
  while (nibbles.size() < 4) nibbles.push_back(handshake::END_OF_OPTIONS);
  t.handshake_config = {features, flags, static_cast<std::uint8_t>(nibbles[0] | nibbles[1] << 4),
                        static_cast<std::uint8_t>(nibbles[2] | nibbles[3] << 4)};

  std::uint8_t tx = 0;
  if (s.structured) tx |= transmission::STRUCTURED_REPLIES;
  if (s.extended) tx |= transmission::EXTENDED_HEADERS;
  tx |= static_cast<std::uint8_t>(contexts << transmission::CONTEXT_COUNT_SHIFT);
  if (s.strict != 0) tx |= transmission::STRICT;
  if (s.strict != 0 && s.strict != LIBNBD_STRICT_MASK) {
    t.notes.push_back("strict mask " + std::to_string(s.strict) + " taken as all checks");
  }
  tx |= transmission::PREAD_INITIALIZE;  // the C API's default
  t.transmission_features = tx;

  bool submitted = false;
  for (const auto& a : header.actions) {
    if (const int type = command_index(a.kind); type >= 0) {
      add_command(a, type, t);
      submitted = true;
      if (a.kind != ActionKind::AioPread) t.plan.push_back({.kind = PlanStep::Kind::Wait});
    } else if (a.kind == ActionKind::Await || a.kind == ActionKind::Poll) {
      t.plan.push_back({.kind = PlanStep::Kind::Wait});
    } else if (a.kind == ActionKind::Shutdown) {
      t.plan.push_back({.kind = PlanStep::Kind::Disconnect,
                        .abandon = (a.flags & LIBNBD_SHUTDOWN_ABANDON_PENDING) != 0});
      submitted = true;
    }
  }
  if (!submitted) t.plan.clear();
  return t;
}

}  // namespace nbdref::fuzz::recorder
