#include "script/parser.hpp"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "script/value_syntax.hpp"
#include "script/vocabulary.hpp"

namespace nbdref::mock::script {
namespace {

using Failure = tl::unexpected<ParseError>;

struct Token {
  std::string_view text;
  Location where;
  // One past the token, for "missing" errors at the end of a line.
  Location end() const { return {where.line, where.column + text.size()}; }
};

Failure fail(Location where, std::string message) {
  return Failure(ParseError{where, std::move(message)});
}

std::string quoted(std::string_view s) {
  return "'" + std::string(s) + "'";
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

// Splits a line at whitespace outside double quotes, up to a # outside
// quotes. A quote may start inside a token (name="my disk").
tl::expected<std::vector<Token>, ParseError> tokenize(std::string_view line, std::size_t line_no) {
  std::vector<Token> tokens;
  std::size_t i = 0;
  while (true) {
    while (i < line.size() && is_space(line[i])) ++i;
    if (i == line.size() || line[i] == '#') return tokens;
    const std::size_t start = i;
    while (i < line.size() && !is_space(line[i]) && line[i] != '#') {
      if (line[i] == '"') {
        const std::size_t opening = i;
        for (++i; i < line.size() && line[i] != '"'; ++i) {
          if (line[i] == '\\') ++i;  // an escaped quote does not close
        }
        if (i >= line.size()) return fail({line_no, opening + 1}, "unterminated quote");
      }
      ++i;
    }
    tokens.push_back({line.substr(start, i - start), {line_no, start + 1}});
  }
}

// key=value: an = before any quote, so a quoted subject may hold one.
std::optional<std::size_t> equals_sign(const Token& t) {
  const std::size_t eq = t.text.find('=');
  if (eq == std::string_view::npos || eq > t.text.find('"')) return std::nullopt;
  return eq;
}

bool is_placeholder(std::string_view word) {
  return word.starts_with('<');
}

std::vector<std::string_view> words_of(std::string_view pattern) {
  std::vector<std::string_view> words;
  while (!pattern.empty()) {
    const std::size_t space = pattern.find(' ');
    words.push_back(pattern.substr(0, space));
    if (space == std::string_view::npos) break;
    pattern.remove_prefix(space + 1);
  }
  return words;
}

// How many of a pattern's `words` the leading tokens match: a literal word
// matches itself, a placeholder any token but an argument.
std::size_t matched_words(const std::vector<std::string_view>& words,
                          const std::vector<Token>& tokens) {
  std::size_t i = 0;
  for (; i < words.size() && i < tokens.size(); ++i) {
    if (equals_sign(tokens[i])) break;
    if (!is_placeholder(words[i]) && tokens[i].text != words[i]) break;
  }
  return i;
}

std::string joined(const std::vector<std::string_view>& items, std::string_view last_separator) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += i + 1 == items.size() ? last_separator : ", ";
    out += items[i];
  }
  return out;
}

// The form the line's leading tokens spell: of those whose words all
// match, the longest; otherwise an error naming what could come next.
tl::expected<const FormSpec*, ParseError> match_form(const std::vector<Token>& tokens) {
  const FormSpec* best = nullptr;
  std::size_t best_words = 0;
  std::size_t deepest = 0;  // the most words any unfinished form matched
  for (const FormSpec& form : forms()) {
    const auto words = words_of(form.pattern);
    const std::size_t n = matched_words(words, tokens);
    if (n == words.size() && n > best_words) {
      best = &form;
      best_words = n;
    } else if (n < words.size()) {
      deepest = std::max(deepest, n);
    }
  }
  if (best) return best;
  if (deepest == 0) return fail(tokens[0].where, "unknown step " + quoted(tokens[0].text));

  std::vector<std::string_view> next;  // the words that could follow
  for (const FormSpec& form : forms()) {
    const auto words = words_of(form.pattern);
    if (words.size() > deepest && matched_words(words, tokens) == deepest &&
        std::find(next.begin(), next.end(), words[deepest]) == next.end()) {
      next.push_back(words[deepest]);
    }
  }
  std::string written;
  for (std::size_t i = 0; i < deepest; ++i) written += (i ? " " : "") + std::string(tokens[i].text);
  std::string message = "expected " + joined(next, " or ") + " after " + quoted(written);
  if (deepest == tokens.size()) return fail(tokens.back().end(), message);
  const Token& found = tokens[deepest];
  if (!equals_sign(found)) message += ", not " + quoted(found.text);
  return fail(found.where, message);
}

std::string key_list(const FormSpec& form) {
  std::vector<std::string_view> keys;
  for (const KeySpec& k : form.keys) keys.push_back(k.key);
  return joined(keys, ", ");
}

// One step line, without its block's {.
tl::expected<Step, ParseError> parse_step(const std::vector<Token>& tokens) {
  for (const Token& t : tokens) {
    if (t.text == "{") return fail(t.where, "'{' must end the line of the step it opens");
    if (t.text == "}") return fail(t.where, "'}' stands alone on its line");
  }
  const auto form = match_form(tokens);
  if (!form) return Failure(form.error());
  const FormSpec& spec = **form;

  Step step;
  step.kind = spec.kind;
  step.where = tokens[0].where;
  const auto words = words_of(spec.pattern);
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (!is_placeholder(words[i])) continue;
    const ValueSpec& subject = spec.subjects.at(step.subjects.size());
    auto value = parse_value(tokens[i].text, subject, spec.role);
    if (!value) return fail(tokens[i].where, value.error());
    step.subjects.push_back(std::move(*value));
  }
  for (std::size_t i = words.size(); i < tokens.size(); ++i) {
    const Token& t = tokens[i];
    const auto eq = equals_sign(t);
    if (!eq) {
      return fail(t.where, "unexpected " + quoted(t.text) + " after " + quoted(spec.pattern) +
                               "; arguments are written key=value");
    }
    const std::string_view key = t.text.substr(0, *eq);
    const KeySpec* key_spec = find_key(spec, key);
    if (!key_spec) {
      std::string message = "unknown key " + quoted(key) + " for " + quoted(spec.pattern);
      message += spec.keys.empty() ? ", which takes none" : "; keys are: " + key_list(spec);
      return fail(t.where, message);
    }
    if (step.arg(key)) return fail(t.where, "key " + quoted(key) + " is given twice");
    auto value = parse_value(t.text.substr(*eq + 1), key_spec->value, spec.role);
    if (!value) return fail({t.where.line, t.where.column + *eq + 1}, value.error());
    step.args.push_back({std::string(key), std::move(*value), t.where});
  }
  return step;
}

// A block whose } has not come yet.
struct OpenBlock {
  std::vector<Step>* body;
  const FormSpec* form;
  Location brace;
};

}  // namespace

std::string ParseError::describe(std::string_view source_name) const {
  std::string out;
  if (!source_name.empty()) out += std::string(source_name) + ":";
  return out + std::to_string(where.line) + ":" + std::to_string(where.column) + ": " + message;
}

tl::expected<Script, ParseError> parse_script(std::string_view text) {
  Script script;
  std::vector<OpenBlock> open;
  std::size_t line_no = 0;
  std::uint64_t materialised = 0;  // bytes held by the byte values so far
  while (!text.empty()) {
    const std::size_t newline = text.find('\n');
    const std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    ++line_no;

    auto tokens = tokenize(line, line_no);
    if (!tokens) return Failure(tokens.error());
    if (tokens->empty()) continue;
    const Token first = tokens->front();
    if (first.text == "}") {
      if (tokens->size() > 1) return fail((*tokens)[1].where, "'}' stands alone on its line");
      if (open.empty()) return fail(first.where, "'}' closes no block");
      open.pop_back();
      continue;
    }
    if (first.text == "{") return fail(first.where, "'{' must end the line of the step it opens");

    std::optional<Location> brace;
    if (tokens->back().text == "{") {
      brace = tokens->back().where;
      tokens->pop_back();
    }
    auto step = parse_step(*tokens);
    if (!step) return Failure(step.error());
    for (const Value& v : step->subjects) materialised += v.bytes.size();
    for (const auto& arg : step->args) materialised += arg.value.bytes.size();
    if (materialised > MAX_SCRIPT_BYTES) {
      return fail(step->where, "the script's byte values add up to more than 64M");
    }
    const FormSpec& form = form_of(step->kind);

    const bool in_serve = !open.empty() && open.back().form->kind == StepKind::Serve;
    if (in_serve && step->kind != StepKind::Export) {
      return fail(step->where,
                  "a serve block holds only export steps, not " + quoted(form.pattern));
    }
    if (!in_serve && step->kind == StepKind::Export) {
      return fail(step->where, "'export' belongs inside a serve block");
    }
    if (brace && !form.block) return fail(*brace, quoted(form.pattern) + " takes no block");
    // serve without a block serves the default export.
    if (!brace && form.block && step->kind != StepKind::Serve) {
      return fail(step->where, quoted(form.pattern) + " needs a block: end its line with {");
    }

    std::vector<Step>& into = open.empty() ? script.steps : *open.back().body;
    into.push_back(std::move(*step));
    // Safe to hold: nothing is added to `into` until this block closes.
    if (brace) open.push_back({&into.back().body, &form, *brace});
  }
  if (!open.empty()) {
    return fail(open.back().brace,
                "the block of " + quoted(open.back().form->pattern) + " is never closed");
  }
  return script;
}

}  // namespace nbdref::mock::script
