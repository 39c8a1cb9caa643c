#include "hostile_header.hpp"

#include <cerrno>
#include <charconv>
#include <map>

#include <libnbd.h>

namespace nbdref::mock::hostile {
namespace {

using Fail = tl::unexpected<std::string>;

struct Token {
  std::string text;
  bool quoted = false;
};

// Words separated by blanks; "..." is one word (\" and \\ escaped).
tl::expected<std::vector<Token>, std::string> tokenize(std::string_view s) {
  std::vector<Token> out;
  std::size_t i = 0;
  while (i < s.size()) {
    if (s[i] == ' ' || s[i] == '\t') {
      ++i;
      continue;
    }
    Token t;
    // A word may be key="quoted value": the quotes end the word.
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') {
      if (s[i] == '"') {
        t.quoted = true;
        ++i;
        bool closed = false;
        while (i < s.size()) {
          if (s[i] == '\\' && i + 1 < s.size()) {
            t.text += s[i + 1];
            i += 2;
            continue;
          }
          if (s[i] == '"') {
            closed = true;
            ++i;
            break;
          }
          t.text += s[i++];
        }
        if (!closed) return Fail("unterminated quoted text");
        continue;
      }
      t.text += s[i++];
    }
    out.push_back(std::move(t));
  }
  return out;
}

std::optional<std::uint64_t> number(std::string_view s) {
  if (s.empty()) return std::nullopt;
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  }
  std::uint64_t multiplier = 1;
  if (base == 10 && !s.empty()) {
    switch (s.back()) {
      case 'K':
        multiplier = 1024;
        break;
      case 'M':
        multiplier = 1024 * 1024;
        break;
      case 'G':
        multiplier = std::uint64_t{1} << 30;
        break;
      default:
        break;
    }
    if (multiplier != 1) s.remove_suffix(1);
  }
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v * multiplier;
}

// "300ms", "2s" or a plain number of milliseconds.
std::optional<unsigned> milliseconds(std::string_view s) {
  std::uint64_t scale = 1;
  if (s.ends_with("ms")) {
    s.remove_suffix(2);
  } else if (s.ends_with("s")) {
    s.remove_suffix(1);
    scale = 1000;
  }
  auto n = number(s);
  if (!n || *n * scale > 60'000) return std::nullopt;
  return static_cast<unsigned>(*n * scale);
}

std::optional<std::vector<std::uint8_t>> bytes(const Token& t) {
  if (t.quoted) return std::vector<std::uint8_t>(t.text.begin(), t.text.end());
  std::string_view s = t.text;
  if (s.starts_with("zeros:")) {
    auto n = number(s.substr(6));
    if (!n || *n > (1u << 26)) return std::nullopt;
    return std::vector<std::uint8_t>(*n, 0);
  }
  if (s.starts_with("hex:")) {
    s.remove_prefix(4);
    if (s.size() % 2 != 0) return std::nullopt;
    std::vector<std::uint8_t> out;
    for (std::size_t i = 0; i < s.size(); i += 2) {
      unsigned v = 0;
      const auto [end, ec] = std::from_chars(s.data() + i, s.data() + i + 2, v, 16);
      if (ec != std::errc() || end != s.data() + i + 2) return std::nullopt;
      out.push_back(static_cast<std::uint8_t>(v));
    }
    return out;
  }
  return std::nullopt;
}

const std::map<std::string_view, ActionKind>& action_names() {
  static const std::map<std::string_view, ActionKind> names{
      {"connect", ActionKind::Connect},
      {"pread", ActionKind::Pread},
      {"pwrite", ActionKind::Pwrite},
      {"flush", ActionKind::Flush},
      {"trim", ActionKind::Trim},
      {"zero", ActionKind::Zero},
      {"cache", ActionKind::Cache},
      {"block-status", ActionKind::BlockStatus},
      {"aio-pread", ActionKind::AioPread},
      {"await", ActionKind::Await},
      {"poll", ActionKind::Poll},
      {"opt-go", ActionKind::OptGo},
      {"opt-info", ActionKind::OptInfo},
      {"opt-list", ActionKind::OptList},
      {"opt-list-meta-context", ActionKind::OptListMetaContext},
      {"opt-set-meta-context", ActionKind::OptSetMetaContext},
      {"opt-structured-reply", ActionKind::OptStructuredReply},
      {"opt-extended-headers", ActionKind::OptExtendedHeaders},
      {"opt-abort", ActionKind::OptAbort},
      {"tls-negotiated", ActionKind::TlsNegotiated},
      {"shutdown", ActionKind::Shutdown},
      {"close", ActionKind::Close},
  };
  return names;
}

// How many numbers each action takes before its keywords.
std::size_t arity(ActionKind k) {
  switch (k) {
    case ActionKind::Pread:
    case ActionKind::Pwrite:
    case ActionKind::Trim:
    case ActionKind::Zero:
    case ActionKind::Cache:
    case ActionKind::BlockStatus:
    case ActionKind::AioPread:
      return 2;
    case ActionKind::Poll:
      return 1;
    default:
      return 0;
  }
}

std::optional<std::uint32_t> command_flag(std::string_view name) {
  if (name == "fua") return LIBNBD_CMD_FLAG_FUA;
  if (name == "no-hole") return LIBNBD_CMD_FLAG_NO_HOLE;
  if (name == "df") return LIBNBD_CMD_FLAG_DF;
  if (name == "req-one") return LIBNBD_CMD_FLAG_REQ_ONE;
  if (name == "fast-zero") return LIBNBD_CMD_FLAG_FAST_ZERO;
  return std::nullopt;
}

tl::expected<Outcome, std::string> parse_outcome(const std::vector<Token>& t, std::size_t i,
                                                 ActionKind kind) {
  Outcome o;
  if (i >= t.size()) return Fail("missing outcome after ->");
  const std::string& word = t[i].text;
  ++i;
  if (word == "ok") {
    o.kind = Outcome::Kind::Ok;
  } else if (word == "fails") {
    o.kind = Outcome::Kind::Fails;
    if (i >= t.size()) return Fail("fails needs an errno name");
    o.errno_name = t[i].text;
    auto e = errno_from_name(o.errno_name);
    if (!e) return Fail("unknown errno name '" + o.errno_name + "'");
    o.errnum = *e;
    ++i;
    if (i >= t.size() || !t[i].quoted) return Fail("fails needs a \"substring\" of the error");
    o.substring = t[i].text;
    if (o.substring.size() < 6) return Fail("the error substring is too short to name anything");
    ++i;
  } else if (word == "pending") {
    if (kind != ActionKind::AioPread) return Fail("only aio-pread can stay pending");
    o.kind = Outcome::Kind::Pending;
    if (i >= t.size()) return Fail("pending needs a duration");
    auto ms = milliseconds(t[i].text);
    if (!ms) return Fail("bad duration '" + t[i].text + "'");
    o.pending_ms = *ms;
    ++i;
  } else {
    return Fail("unknown outcome '" + word + "' (ok, fails, pending)");
  }
  for (; i < t.size(); ++i) {
    const std::string& w = t[i].text;
    if (w.starts_with("count=")) {
      auto n = number(std::string_view(w).substr(6));
      if (!n) return Fail("bad count in '" + w + "'");
      o.count = *n;
    } else if (w.starts_with("data=")) {
      Token b{w.substr(5), t[i].quoted};
      auto d = bytes(b);
      if (!d) return Fail("bad bytes in '" + w + "'");
      if (o.kind != Outcome::Kind::Ok || kind != ActionKind::Pread) {
        return Fail("data= belongs to a successful pread");
      }
      o.data = std::move(*d);
    } else {
      return Fail("unexpected '" + w + "' after the outcome");
    }
  }
  return o;
}

tl::expected<Action, std::string> parse_action(const std::vector<Token>& t) {
  Action a;
  if (t.empty()) return Fail("do needs an action");
  auto it = action_names().find(t[0].text);
  if (it == action_names().end()) return Fail("unknown action '" + t[0].text + "'");
  a.kind = it->second;
  a.name = t[0].text;
  std::size_t i = 1;
  for (std::size_t n = 0; n < arity(a.kind); ++n, ++i) {
    if (i >= t.size()) return Fail(a.name + " needs " + std::to_string(arity(a.kind)) + " numbers");
    auto v = a.kind == ActionKind::Poll ? std::optional<std::uint64_t>(milliseconds(t[i].text))
                                        : number(t[i].text);
    if (!v) return Fail("bad number '" + t[i].text + "'");
    a.args.push_back(*v);
  }
  for (; i < t.size() && t[i].text != "->"; ++i) {
    const std::string& w = t[i].text;
    if (a.kind == ActionKind::AioPread && w.size() > 1 && w[0] == 'x') {
      auto n = number(std::string_view(w).substr(1));
      if (!n || *n == 0 || *n > 64) return Fail("bad count '" + w + "' (x1 to x64)");
      a.copies = static_cast<unsigned>(*n);
    } else if (a.kind == ActionKind::Shutdown && w == "abandon") {
      a.flags |= LIBNBD_SHUTDOWN_ABANDON_PENDING;
    } else if (w.starts_with("flags=")) {
      std::string_view rest = std::string_view(w).substr(6);
      while (!rest.empty()) {
        const auto bar = rest.find('|');
        auto f = command_flag(rest.substr(0, bar));
        if (!f) return Fail("unknown command flag in '" + w + "'");
        a.flags |= *f;
        rest = bar == std::string_view::npos ? std::string_view{} : rest.substr(bar + 1);
      }
    } else {
      return Fail("unexpected '" + w + "' in " + a.name);
    }
  }
  if (i >= t.size()) return Fail("missing '-> outcome'");
  auto o = parse_outcome(t, i + 1, a.kind);
  if (!o) return Fail(o.error());
  a.outcome = std::move(*o);
  if (a.outcome.kind == Outcome::Kind::Pending && a.kind != ActionKind::AioPread) {
    return Fail("only aio-pread can stay pending");
  }
  return a;
}

bool known_state(std::string_view s) {
  return s == "created" || s == "connecting" || s == "negotiating" || s == "ready" ||
         s == "processing" || s == "dead" || s == "closed";
}

bool known_verdict(std::string_view s) {
  return s == "completed" || s == "mismatch" || s == "timeout" || s == "client-gone" || s == "any";
}

bool known_setting(std::string_view k) {
  return k == "request-structured-replies" || k == "request-extended-headers" || k == "opt-mode" ||
         k == "meta-context" || k == "strict" || k == "handshake-flags" || k == "export-name" ||
         k == "full-info" || k == "request-block-size" || k == "tls";
}

}  // namespace

std::optional<int> errno_from_name(std::string_view name) {
  static const std::map<std::string_view, int> table{
      {"EPROTO", EPROTO},
      {"ECONNRESET", ECONNRESET},
      {"EINVAL", EINVAL},
      {"ENOTSUP", ENOTSUP},
      {"EIO", EIO},
      {"ENOENT", ENOENT},
      {"EPERM", EPERM},
      {"ESHUTDOWN", ESHUTDOWN},
      {"E2BIG", E2BIG},
      {"ENOTCONN", ENOTCONN},
      {"ECANCELED", ECANCELED},
      {"EOVERFLOW", EOVERFLOW},
      {"ENOSPC", ENOSPC},
      {"ENOMEM", ENOMEM},
      {"EPIPE", EPIPE},
      {"ERANGE", ERANGE},
      {"ENAMETOOLONG", ENAMETOOLONG},
      {"EBADMSG", EBADMSG},
      {"ETIMEDOUT", ETIMEDOUT},
      {"EAGAIN", EAGAIN},
      {"EACCES", EACCES},
  };
  auto it = table.find(name);
  if (it == table.end()) return std::nullopt;
  return it->second;
}

tl::expected<ScriptHeader, std::string> parse_header(std::string_view text) {
  ScriptHeader h;
  std::size_t line_no = 0;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_no;
    const auto where = [&](const std::string& m) {
      return Fail("line " + std::to_string(line_no) + ": " + m);
    };
    if (line.starts_with("#@")) {
      auto tokens = tokenize(line.substr(2));
      if (!tokens) return where(tokens.error());
      auto& t = *tokens;
      if (t.empty()) return where("empty #@ line");
      const std::string keyword = t[0].text;
      t.erase(t.begin());
      if (keyword == "clauses") {
        if (t.empty()) return where("clauses needs at least one id");
        for (const auto& c : t) h.clauses.push_back(c.text);
      } else if (keyword == "set") {
        if (t.empty()) return where("set needs key=value");
        for (const auto& kv : t) {
          const auto eq = kv.text.find('=');
          if (eq == std::string::npos) return where("set needs key=value, not '" + kv.text + "'");
          Setting s{kv.text.substr(0, eq), kv.text.substr(eq + 1), line_no};
          if (!known_setting(s.key)) return where("unknown setting '" + s.key + "'");
          h.settings.push_back(std::move(s));
        }
      } else if (keyword == "do") {
        auto a = parse_action(t);
        if (!a) return where(a.error());
        a->line = line_no;
        a->text = std::string(line.substr(2));
        h.actions.push_back(std::move(*a));
      } else if (keyword == "state") {
        if (t.size() != 1 || !known_state(t[0].text)) return where("state needs one known state");
        Action a;
        a.kind = ActionKind::State;
        a.name = "state";
        a.state = t[0].text;
        a.line = line_no;
        a.text = std::string(line.substr(2));
        h.actions.push_back(std::move(a));
      } else if (keyword == "verdict") {
        if (t.size() != 1 || !known_verdict(t[0].text)) {
          return where("verdict needs one of completed, mismatch, timeout, client-gone, any");
        }
        h.verdict = t[0].text;
      } else if (keyword == "never-sent") {
        if (t.size() != 2 || t[0].text != "option") return where("never-sent option NAME");
        h.never_sent_options.push_back(t[1].text);
      } else if (keyword == "pending-tls") {
        if (!t.empty()) return where("pending-tls takes nothing");
        h.pending_tls = true;
      } else if (keyword == "known-bug") {
        if (t.empty()) return where("known-bug needs a description");
        std::string_view rest = line.substr(line.find("known-bug") + 9);
        while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
        h.known_bug = std::string(rest);
      } else {
        return where("unknown #@ keyword '" + keyword + "'");
      }
    } else if (line.starts_with("#") && h.summary.empty()) {
      std::string_view s = line.substr(1);
      while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
      h.summary = std::string(s);
    }
  }
  if (h.summary.empty()) return Fail("no summary comment line");
  if (h.clauses.empty()) return Fail("no #@ clauses line");
  if (h.actions.empty() && !h.pending_tls) return Fail("no #@ do line");
  return h;
}

}  // namespace nbdref::mock::hostile
