#include "server/play_support.hpp"

#include <condition_variable>
#include <mutex>
#include <thread>

namespace nbdref::mock::playback {
namespace {

using script::Symbols;
using script::ValueSpec;

bool is_flag_table(Symbols s) {
  return s == Symbols::HandshakeFlags || s == Symbols::ClientFlags ||
         s == Symbols::TransmissionFlags || s == Symbols::CommandFlags || s == Symbols::ReplyFlags;
}

bool is_hex_key(std::string_view key) {
  return key == "cookie" || key.ends_with("magic");
}

// A number by its protocol name ("GO", "FUA|DF"), or plainly.
std::string symbolic(Symbols symbols, std::uint64_t n) {
  if (auto name = script::symbol_name(symbols, n)) return *name;
  if (is_flag_table(symbols) && n != 0) {
    std::string out;
    std::uint64_t rest = 0;
    for (unsigned bit = 0; bit < 64; ++bit) {
      const std::uint64_t b = std::uint64_t{1} << bit;
      if (!(n & b)) continue;
      if (auto name = script::symbol_name(symbols, b)) {
        if (!out.empty()) out += '|';
        out += *name;
      } else {
        rest |= b;
      }
    }
    if (rest != 0) {
      if (!out.empty()) out += '|';
      out += hex(rest);
    }
    return out;
  }
  return std::to_string(n);
}

std::string subject_text(const Value& v, const ValueSpec& spec) {
  if (v.kind == Value::Kind::Number && spec.symbols != Symbols::None) {
    if (auto name = script::symbol_name(spec.symbols, v.number)) return *name;
  }
  return render_value(v, &spec);
}

}  // namespace

std::string hex(std::uint64_t v) {
  static constexpr char DIGITS[] = "0123456789abcdef";
  std::string out;
  do {
    out.insert(out.begin(), DIGITS[v & 0xf]);
    v >>= 4;
  } while (v != 0);
  return "0x" + out;
}

std::string quote(std::string_view text) {
  static constexpr char DIGITS[] = "0123456789abcdef";
  std::string out = "\"";
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      out += "\\x";
      out += DIGITS[u >> 4];
      out += DIGITS[u & 0xf];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string duration_text(std::chrono::milliseconds d) {
  const auto ms = d.count();
  if (ms > 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::string bytes_text(std::span<const std::uint8_t> b) {
  static constexpr char DIGITS[] = "0123456789abcdef";
  if (b.empty()) return "\"\"";
  if (b.size() > 16) return "<" + std::to_string(b.size()) + " bytes>";
  std::string out = "hex:";
  for (const std::uint8_t x : b) {
    out += DIGITS[x >> 4];
    out += DIGITS[x & 0xf];
  }
  return out;
}

std::string byte_count(std::uint64_t n) {
  return std::to_string(n) + (n == 1 ? " byte" : " bytes");
}

std::string render_value(const Value& v, const ValueSpec* spec, std::string_view key) {
  using K = Value::Kind;
  switch (v.kind) {
    case K::Number:
      if (!v.spelling.empty()) return v.spelling;
      if (spec && spec->symbols != Symbols::None) return symbolic(spec->symbols, v.number);
      return is_hex_key(key) ? hex(v.number) : std::to_string(v.number);
    case K::Text:
      return quote(v.text);
    case K::Bytes:
      return v.spelling.empty() ? bytes_text(v.bytes) : v.spelling;
    case K::Duration:
      return duration_text(std::chrono::milliseconds(v.number));
    case K::Extents: {
      std::string out;
      for (const auto& e : v.extents) {
        if (!out.empty()) out += ',';
        out += std::to_string(e.length) + ":" + std::to_string(e.flags);
      }
      return out;
    }
    case K::Bool:
      return v.number ? "yes" : "no";
    case K::Word:
      return v.text;
    case K::Variable:
      return "$" + v.text;
    case K::Wildcard:
      return "*";
  }
  return {};
}

std::string step_head(const Step& step) {
  const auto& form = script::form_of(step.kind);
  std::string out;
  std::size_t subject = 0;
  const std::string_view pattern = form.pattern;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '<') {
      out += pattern[i];
      continue;
    }
    const std::size_t end = pattern.find('>', i);
    if (subject < step.subjects.size() && subject < form.subjects.size()) {
      out += subject_text(step.subjects[subject], form.subjects[subject]);
    } else {
      out += pattern.substr(i, end - i + 1);
    }
    ++subject;
    i = end;
  }
  return out;
}

std::string step_prefix(const Step& step) {
  if (step.where.line == 0) return step_head(step);
  return "line " + std::to_string(step.where.line) + ": " + step_head(step);
}

tl::unexpected<Failure> fail(const Step& step, Verdict::Outcome outcome, const std::string& what) {
  return tl::unexpected(Failure{outcome, step_prefix(step) + ": " + what, step.where});
}

tl::unexpected<Failure> fail_key(const Step& step, Verdict::Outcome outcome, std::string_view key,
                                 const std::string& what) {
  std::string written;
  if (const Value* v = step.arg(key)) {
    const auto* spec = script::find_key(script::form_of(step.kind), key);
    written = " " + std::string(key) + "=" + render_value(*v, spec ? &spec->value : nullptr, key);
  }
  return tl::unexpected(Failure{outcome, step_prefix(step) + written + ": " + what, step.where});
}

std::string_view phase_name(Phase p) {
  switch (p) {
    case Phase::BeforeGreeting:
      return "before the greeting";
    case Phase::Greeted:
      return "after the greeting";
    case Phase::Options:
      return "in option haggling";
    case Phase::Transmission:
      return "in transmission";
  }
  return "";
}

// ---- Args ----

Result<const Binding*> Args::lookup(const Value& v, const std::string& what) const {
  auto it = vars_.find(v.text);
  if (it == vars_.end()) {
    return fail(step_, Verdict::Outcome::ScriptError,
                what + "$" + v.text + " is used before an expectation captured it");
  }
  return &it->second;
}

Result<std::uint64_t> Args::resolve_number(const Value& v, const std::string& key,
                                           unsigned bits) const {
  const std::string what = key.empty() ? std::string() : key + "=";
  std::uint64_t n = 0;
  switch (v.kind) {
    case Value::Kind::Number:
    case Value::Kind::Bool:
      n = v.number;
      break;
    case Value::Kind::Variable: {
      auto b = lookup(v, what);
      if (!b) return tl::unexpected(b.error());
      if ((*b)->kind != Binding::Kind::Number) {
        return fail(step_, Verdict::Outcome::ScriptError,
                    what + "$" + v.text + " holds " +
                        ((*b)->kind == Binding::Kind::Text ? "text" : "bytes") + ", not a number");
      }
      n = (*b)->number;
      break;
    }
    case Value::Kind::Wildcard:
      return fail(step_, Verdict::Outcome::ScriptError,
                  what + "* only matches in expectations; a sending step needs a value");
    default:
      return fail(step_, Verdict::Outcome::ScriptError, what + "needs a number");
  }
  if (bits < 64 && (n >> bits) != 0) {
    return fail(
        step_, Verdict::Outcome::ScriptError,
        what + std::to_string(n) + " does not fit the " + std::to_string(bits) + "-bit field");
  }
  return n;
}

Result<std::uint64_t> Args::number(std::string_view key, std::uint64_t fallback,
                                   unsigned bits) const {
  const Value* v = step_.arg(key);
  if (!v) return fallback;
  return resolve_number(*v, std::string(key), bits);
}

Result<std::optional<std::uint64_t>> Args::maybe_number(std::string_view key, unsigned bits) const {
  const Value* v = step_.arg(key);
  if (!v) return std::optional<std::uint64_t>();
  auto n = resolve_number(*v, std::string(key), bits);
  if (!n) return tl::unexpected(n.error());
  return std::optional<std::uint64_t>(*n);
}

Result<std::uint64_t> Args::subject_number(std::size_t index, unsigned bits) const {
  if (index >= step_.subjects.size()) {
    return fail(step_, Verdict::Outcome::ScriptError, "the step lacks a subject");
  }
  return resolve_number(step_.subjects[index], std::string(), bits);
}

Result<std::vector<std::uint8_t>> Args::subject_bytes(std::size_t index) const {
  if (index >= step_.subjects.size()) {
    return fail(step_, Verdict::Outcome::ScriptError, "the step lacks a subject");
  }
  const Value& v = step_.subjects[index];
  switch (v.kind) {
    case Value::Kind::Bytes:
      return v.bytes;
    case Value::Kind::Text:
      return std::vector<std::uint8_t>(v.text.begin(), v.text.end());
    case Value::Kind::Variable: {
      auto b = lookup(v, "");
      if (!b) return tl::unexpected(b.error());
      if ((*b)->kind == Binding::Kind::Number) {
        return fail(step_, Verdict::Outcome::ScriptError,
                    "$" + v.text + " holds a number, not bytes");
      }
      return (*b)->bytes;
    }
    default:
      return fail(step_, Verdict::Outcome::ScriptError, "the step needs bytes");
  }
}

Result<std::string> Args::text(std::string_view key, std::string fallback) const {
  const Value* v = step_.arg(key);
  if (!v) return fallback;
  const std::string what = std::string(key) + "=";
  switch (v->kind) {
    case Value::Kind::Text:
      return v->text;
    case Value::Kind::Bytes:
      return std::string(v->bytes.begin(), v->bytes.end());
    case Value::Kind::Variable: {
      auto b = lookup(*v, what);
      if (!b) return tl::unexpected(b.error());
      if ((*b)->kind == Binding::Kind::Number) {
        return fail(step_, Verdict::Outcome::ScriptError,
                    what + "$" + v->text + " holds a number, not text");
      }
      return std::string((*b)->bytes.begin(), (*b)->bytes.end());
    }
    default:
      return fail(step_, Verdict::Outcome::ScriptError, std::string(key) + " needs text");
  }
}

Result<std::vector<std::uint8_t>> Args::bytes(std::string_view key,
                                              std::vector<std::uint8_t> fallback) const {
  const Value* v = step_.arg(key);
  if (!v) return fallback;
  const std::string what = std::string(key) + "=";
  switch (v->kind) {
    case Value::Kind::Bytes:
      return v->bytes;
    case Value::Kind::Text:
      return std::vector<std::uint8_t>(v->text.begin(), v->text.end());
    case Value::Kind::Variable: {
      auto b = lookup(*v, what);
      if (!b) return tl::unexpected(b.error());
      if ((*b)->kind == Binding::Kind::Number) {
        return fail(step_, Verdict::Outcome::ScriptError,
                    what + "$" + v->text + " holds a number, not bytes");
      }
      return (*b)->bytes;
    }
    default:
      return fail(step_, Verdict::Outcome::ScriptError, std::string(key) + " needs bytes");
  }
}

Result<bool> Args::boolean(std::string_view key, bool fallback) const {
  const Value* v = step_.arg(key);
  if (!v) return fallback;
  auto n = resolve_number(*v, std::string(key), 64);
  if (!n) return tl::unexpected(n.error());
  return *n != 0;
}

std::optional<std::string> Args::word(std::string_view key) const {
  const Value* v = step_.arg(key);
  if (!v || (v->kind != Value::Kind::Word && v->kind != Value::Kind::Text)) return std::nullopt;
  return v->text;
}

std::chrono::milliseconds Args::duration(std::string_view key,
                                         std::chrono::milliseconds fallback) const {
  const Value* v = step_.arg(key);
  if (!v || v->kind != Value::Kind::Duration) return fallback;
  return std::chrono::milliseconds(v->number);
}

// ---- output ----

bool sleep_for(std::chrono::milliseconds d, const std::stop_token& stop) {
  if (d.count() <= 0) return !stop.stop_requested();
  if (!stop.stop_possible()) {
    std::this_thread::sleep_for(d);
    return true;
  }
  std::mutex m;
  std::condition_variable_any cv;
  std::unique_lock<std::mutex> lock(m);
  cv.wait_for(lock, stop, d, [] { return false; });
  return !stop.stop_requested();
}

bool Output::write_piece(std::span<const std::uint8_t> piece, std::string& error) {
  if (wrote_piece_ && !sleep_for(blocks_.back().gap, stop_)) {
    error = "the player was stopped";
    return false;
  }
  wrote_piece_ = true;
  return channel_.write_all(piece, error);
}

bool Output::send(std::span<const std::uint8_t> data, std::string& error) {
  if (stop_.stop_requested()) {
    error = "the player was stopped";
    return false;
  }
  if (blocks_.empty()) return channel_.write_all(data, error);
  pending_.insert(pending_.end(), data.begin(), data.end());
  const std::size_t piece = blocks_.back().piece;
  std::size_t done = 0;
  bool ok = true;
  while (ok && pending_.size() - done >= piece) {
    ok = write_piece(std::span<const std::uint8_t>(pending_).subspan(done, piece), error);
    done += piece;
  }
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(done));
  return ok;
}

bool Output::flush(std::string& error) {
  bool ok = true;
  if (!pending_.empty()) ok = write_piece(pending_, error);
  pending_.clear();
  wrote_piece_ = false;
  return ok;
}

void Output::begin_fragments(std::size_t piece, std::chrono::milliseconds gap) {
  blocks_.push_back({piece == 0 ? 1 : piece, gap});
  wrote_piece_ = false;
}

void Output::end_fragments() {
  if (!blocks_.empty()) blocks_.pop_back();
  wrote_piece_ = false;
}

}  // namespace nbdref::mock::playback
