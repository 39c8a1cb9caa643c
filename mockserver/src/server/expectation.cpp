#include "server/expectation.hpp"

#include <cerrno>
#include <utility>

#include "wire/bytes.hpp"
#include "wire/constants.hpp"
#include "wire/limits.hpp"

namespace nbdref::mock::playback {
namespace {

using namespace wire;
using script::StepKind;
using O = Verdict::Outcome;

// One entry of the transcript for the message being read, written once
// however the expectation ends.
class Recorder {
 public:
  explicit Recorder(Transcript* t) : transcript_(t) {}
  ~Recorder() {
    if (transcript_ && !description.empty()) transcript_->client_sent(description, bytes);
  }
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  void add(std::span<const std::uint8_t> b) {
    if (transcript_) bytes.insert(bytes.end(), b.begin(), b.end());
  }

  std::string description;
  std::vector<std::uint8_t> bytes;

 private:
  Transcript* transcript_;
};

// Reads the parts of one client message before one deadline.
class Reading {
 public:
  Reading(const Step& step, const ExpectContext& context)
      : step_(step),
        channel_(context.channel),
        timeout_(Args(step, empty_vars()).duration("timeout", context.default_timeout)),
        deadline_(Clock::now() + timeout_) {}

  // Reads all of `out`: bytes [already, already + out.size()) of `part`,
  // which is `total` bytes long. `first`: nothing of the message came yet.
  Result<void> read(std::span<std::uint8_t> out, const std::string& part, std::size_t already,
                    std::size_t total, bool first) {
    std::size_t got = 0;
    while (got < out.size()) {
      const ReadResult r = channel_.read_some(out.subspan(got), deadline_);
      switch (r.status) {
        case ReadResult::Status::Data:
          got += r.count;
          continue;
        case ReadResult::Status::Timeout: {
          const std::size_t have = already + got;
          const std::string waited = duration_text(timeout_);
          if (have == 0 && first)
            return fail(step_, O::Timeout, "nothing from the client for " + waited);
          if (have == 0) {
            return fail(
                step_, O::Timeout,
                "nothing more from the client for " + waited + " (waiting for " + part + ")");
          }
          return fail(step_, O::Timeout,
                      "the client sent " + std::to_string(have) + " of the " +
                          std::to_string(total) + " bytes of " + part + ", then nothing for " +
                          waited);
        }
        case ReadResult::Status::Eof: {
          const std::size_t have = already + got;
          if (have == 0 && first)
            return fail(step_, O::ClientGone, "the client closed the connection");
          if (have == 0) {
            return fail(step_, O::ClientGone, "the client closed the connection before " + part);
          }
          return fail(step_, O::ClientGone,
                      "the client closed the connection after " + std::to_string(have) +
                          " of the " + std::to_string(total) + " bytes of " + part);
        }
        case ReadResult::Status::Error:
          if (r.errnum == ECONNRESET)
            return fail(step_, O::ClientGone, "the client reset the connection");
          return fail(step_, O::ClientGone, "reading from the client failed: " + r.error);
      }
    }
    return {};
  }

  Clock::time_point deadline() const { return deadline_; }
  std::chrono::milliseconds timeout() const { return timeout_; }

 private:
  static const Variables& empty_vars() {
    static const Variables none;
    return none;
  }

  const Step& step_;
  Channel& channel_;
  std::chrono::milliseconds timeout_;
  Clock::time_point deadline_;
};

// ---- matching ----

using Show = std::string (*)(std::uint64_t);

std::string show_decimal(std::uint64_t v) {
  return std::to_string(v);
}
std::string show_hex(std::uint64_t v) {
  return hex(v);
}
std::string show_client_flags(std::uint64_t v) {
  return describe_client_flags(static_cast<std::uint32_t>(v));
}
std::string show_command_flags(std::uint64_t v) {
  return describe_command_flags(static_cast<std::uint16_t>(v));
}

// Checks, or captures, the number the client sent for `key`.
Result<void> match_number(const Step& step, Conversation& c, std::string_view key,
                          std::uint64_t actual, Show show) {
  const Value* v = step.arg(key);
  if (!v || v->kind == Value::Kind::Wildcard) return {};
  if (v->kind == Value::Kind::Variable) {
    c.variables[v->text] = Binding{Binding::Kind::Number, actual, {}};
    return {};
  }
  if (v->kind != Value::Kind::Number) return fail_key(step, O::ScriptError, key, "needs a number");
  if (v->number == actual) return {};
  return fail_key(step, O::Mismatch, key, std::string(key) + " was " + show(actual));
}

// A magic: the protocol's unless the step says otherwise.
Result<void> match_magic(const Step& step, Conversation& c, std::uint64_t actual,
                         std::uint64_t expected, const std::string& expected_name,
                         const std::string& actual_name) {
  if (step.arg("magic")) return match_number(step, c, "magic", actual, show_hex);
  if (actual == expected) return {};
  return fail(step, O::Mismatch,
              "magic was " + hex(actual) + (actual_name.empty() ? "" : " (" + actual_name + ")") +
                  ", not " + expected_name + " " + hex(expected));
}

// The <option> or <command> subject.
Result<void> match_subject(const Step& step, Conversation& c, std::uint64_t actual,
                           const std::string& described) {
  if (step.subjects.empty()) return {};
  const Value& v = step.subjects.front();
  switch (v.kind) {
    case Value::Kind::Wildcard:
      return {};
    case Value::Kind::Variable:
      c.variables[v.text] = Binding{Binding::Kind::Number, actual, {}};
      return {};
    case Value::Kind::Number:
      if (v.number == actual) return {};
      return fail(step, O::Mismatch, "the client sent " + described);
    default:
      return fail(step, O::ScriptError, "the subject needs a name, a number, * or $name");
  }
}

Result<void> match_text(const Step& step, Conversation& c, std::string_view key,
                        const std::optional<std::string>& actual, const std::string& why_none) {
  const Value* v = step.arg(key);
  if (!v || v->kind == Value::Kind::Wildcard) return {};
  if (!actual) return fail_key(step, O::Mismatch, key, why_none);
  switch (v->kind) {
    case Value::Kind::Variable:
      c.variables[v->text] = Binding{Binding::Kind::Text, 0,
                                     std::vector<std::uint8_t>(actual->begin(), actual->end())};
      return {};
    case Value::Kind::Text:
      if (v->text == *actual) return {};
      return fail_key(step, O::Mismatch, key, std::string(key) + " was " + quote(*actual));
    default:
      return fail_key(step, O::ScriptError, key, "needs text");
  }
}

Result<void> match_bytes(const Step& step, Conversation& c, std::string_view key,
                         std::span<const std::uint8_t> actual) {
  const Value* v = step.arg(key);
  if (!v || v->kind == Value::Kind::Wildcard) return {};
  if (v->kind == Value::Kind::Variable) {
    c.variables[v->text] =
        Binding{Binding::Kind::Bytes, 0, std::vector<std::uint8_t>(actual.begin(), actual.end())};
    return {};
  }
  std::vector<std::uint8_t> expected;
  if (v->kind == Value::Kind::Bytes) {
    expected = v->bytes;
  } else if (v->kind == Value::Kind::Text) {
    expected.assign(v->text.begin(), v->text.end());
  } else {
    return fail_key(step, O::ScriptError, key, "needs bytes");
  }
  if (expected.size() != actual.size()) {
    return fail_key(step, O::Mismatch, key,
                    std::string(key) + " was " + std::to_string(actual.size()) + " bytes, not " +
                        std::to_string(expected.size()));
  }
  for (std::size_t i = 0; i < expected.size(); ++i) {
    if (expected[i] != actual[i]) {
      return fail_key(step, O::Mismatch, key,
                      std::string(key) + " differs at byte " + std::to_string(i) + ": " +
                          hex(actual[i]) + " where " + hex(expected[i]) + " was expected");
    }
  }
  return {};
}

// The export name an option's data starts with, or nullopt.
std::optional<std::string> export_name_of(std::uint32_t option,
                                          std::span<const std::uint8_t> data) {
  switch (option) {
    case NBD_OPT_EXPORT_NAME:
      return std::string(as_string_view(data));
    case NBD_OPT_INFO:
    case NBD_OPT_GO:
    case NBD_OPT_LIST_META_CONTEXT:
    case NBD_OPT_SET_META_CONTEXT: {
      // The data starts with a 32-bit name length and the name.
      if (data.size() < 4) return std::nullopt;
      const std::uint32_t n = load_be32(data.data());
      if (n > data.size() - 4) return std::nullopt;
      return std::string(as_string_view(data.subspan(4, n)));
    }
    default:
      return std::nullopt;
  }
}

std::string request_magic_name(std::uint32_t magic) {
  if (magic == NBD_REQUEST_MAGIC) return "a compact request";
  if (magic == NBD_EXTENDED_REQUEST_MAGIC) return "an extended request";
  if (magic == static_cast<std::uint32_t>(IHAVEOPT >> 32)) return "the start of IHAVEOPT";
  return {};
}

#define TRY_VOID(expr)                                                    \
  do {                                                                    \
    auto try_void_result = (expr);                                        \
    if (!try_void_result) return tl::unexpected(try_void_result.error()); \
  } while (0)

// ---- the expectations ----

Result<void> expect_client_flags(const Step& step, Conversation& c, const ExpectContext& ctx) {
  Reading reading(step, ctx);
  Recorder rec(ctx.transcript);
  std::uint8_t b[CLIENT_FLAGS_SIZE];
  TRY_VOID(reading.read(b, "the client flags", 0, sizeof b, true));
  rec.add(b);
  const std::uint32_t flags = load_be32(b);
  rec.description = "client flags " + describe_client_flags(flags);
  c.client_flags = flags;
  if (c.phase < Phase::Options) c.phase = Phase::Options;
  return match_number(step, c, "flags", flags, show_client_flags);
}

Result<void> expect_option(const Step& step, Conversation& c, const ExpectContext& ctx) {
  Reading reading(step, ctx);
  Recorder rec(ctx.transcript);
  std::uint8_t h[OPTION_REQUEST_HEADER_SIZE];
  const std::string header = "an option header";
  TRY_VOID(reading.read(std::span(h, 8), header, 0, sizeof h, true));
  rec.add(std::span(h, 8));
  const std::uint64_t magic = load_be64(h);
  rec.description = "option header, magic " + hex(magic);
  TRY_VOID(match_magic(step, c, magic, IHAVEOPT, "IHAVEOPT", ""));
  TRY_VOID(reading.read(std::span(h + 8, 8), header, 8, sizeof h, false));
  rec.add(std::span(h + 8, 8));
  const std::uint32_t option = load_be32(h + 8);
  const std::uint32_t length = load_be32(h + 12);
  rec.description = describe_option(option) + ", " + byte_count(length) + " of data";
  c.last_option = option;
  if (c.phase < Phase::Options) c.phase = Phase::Options;
  TRY_VOID(match_subject(step, c, option, describe_option(option)));
  TRY_VOID(match_number(step, c, "length", length, show_decimal));
  if (length > MAX_READ) {
    return fail(step, O::Mismatch,
                "the client announced " + std::to_string(length) + " bytes of " +
                    describe_option(option) + " data, more than the player reads (64 MiB)");
  }
  std::vector<std::uint8_t> data(length);
  TRY_VOID(reading.read(data, "the " + describe_option(option) + " data", 0, data.size(), false));
  rec.add(data);
  const auto name = export_name_of(option, data);
  if (name) rec.description += ", export " + quote(*name);
  if (name && (option == NBD_OPT_EXPORT_NAME || option == NBD_OPT_INFO || option == NBD_OPT_GO)) {
    c.export_name = *name;
  }
  // S-BS-033 (proto.md "NBD_OPT_SET_META_CONTEXT"): every SET_META_CONTEXT replaces the selection.
  if (option == NBD_OPT_SET_META_CONTEXT) c.allocation_id.reset();
  const bool carries_name = option == NBD_OPT_EXPORT_NAME || option == NBD_OPT_INFO ||
                            option == NBD_OPT_GO || option == NBD_OPT_LIST_META_CONTEXT ||
                            option == NBD_OPT_SET_META_CONTEXT;
  TRY_VOID(match_text(step, c, "name", name,
                      carries_name ? "the " + describe_option(option) + " data holds no export name"
                                   : "the client sent " + describe_option(option) +
                                         ", which carries no export name"));
  return match_bytes(step, c, "data", data);
}

Result<void> expect_request(const Step& step, Conversation& c, const ExpectContext& ctx) {
  const Args args(step, c.variables);
  const auto form = args.word("form");
  if (form && *form != "compact" && *form != "extended") {
    return fail_key(step, O::ScriptError, "form", "a request is compact or extended");
  }
  // X-C-013 (proto-extended-headers.md "NBD_OPT_EXTENDED_HEADERS"): extended once
  // negotiated.
  const bool extended = form ? *form == "extended" : c.extended;
  const std::size_t size = extended ? EXTENDED_REQUEST_SIZE : COMPACT_REQUEST_SIZE;
  const std::uint32_t expected_magic = extended ? NBD_EXTENDED_REQUEST_MAGIC : NBD_REQUEST_MAGIC;

  Reading reading(step, ctx);
  Recorder rec(ctx.transcript);
  std::uint8_t h[EXTENDED_REQUEST_SIZE];
  const std::string header = extended ? "an extended request header" : "a request header";
  TRY_VOID(reading.read(std::span(h, 4), header, 0, size, true));
  rec.add(std::span(h, 4));
  const std::uint32_t magic = load_be32(h);
  rec.description = "request header, magic " + hex(magic);
  TRY_VOID(match_magic(step, c, magic, expected_magic, request_magic_name(expected_magic),
                       request_magic_name(magic)));
  TRY_VOID(reading.read(std::span(h + 4, size - 4), header, 4, size, false));
  rec.add(std::span(h + 4, size - 4));
  RequestSeen r;
  r.flags = load_be16(h + 4);
  r.type = load_be16(h + 6);
  r.cookie = load_be64(h + 8);
  r.offset = load_be64(h + 16);
  r.length = extended ? load_be64(h + 24) : load_be32(h + 24);
  c.last_request = r;
  // Compact: only WRITE carries a payload. Extended: whatever has
  // PAYLOAD_LEN set (X-S-003, proto-extended-headers.md "Request message"), and
  // nothing else.
  const std::uint64_t payload = extended ? ((r.flags & NBD_CMD_FLAG_PAYLOAD_LEN) ? r.length : 0)
                                         : (r.type == NBD_CMD_WRITE ? r.length : 0);
  rec.description = describe_command(r.type) + (extended ? " (extended)" : "") + ", cookie " +
                    hex(r.cookie) + ", offset " + std::to_string(r.offset) + ", length " +
                    std::to_string(r.length) + ", flags " + describe_command_flags(r.flags);
  TRY_VOID(match_subject(step, c, r.type, describe_command(r.type)));
  TRY_VOID(match_number(step, c, "cookie", r.cookie, show_hex));
  TRY_VOID(match_number(step, c, "offset", r.offset, show_decimal));
  TRY_VOID(match_number(step, c, "length", r.length, show_decimal));
  TRY_VOID(match_number(step, c, "flags", r.flags, show_command_flags));
  if (payload > MAX_READ) {
    return fail(step, O::Mismatch,
                "the client announced a payload of " + std::to_string(payload) +
                    " bytes, more than the player reads (64 MiB)");
  }
  std::vector<std::uint8_t> data(static_cast<std::size_t>(payload));
  TRY_VOID(
      reading.read(data, "the " + describe_command(r.type) + " payload", 0, data.size(), false));
  rec.add(data);
  if (!data.empty()) rec.description += ", " + byte_count(data.size()) + " of payload";
  return match_bytes(step, c, "data", data);
}

// What a client's unexpected bytes start with, when it is a message.
std::string looks_like(std::span<const std::uint8_t> b) {
  if (b.size() >= 8 && load_be32(b.data()) == NBD_REQUEST_MAGIC) {
    return " (starting with a " + describe_command(load_be16(b.data() + 6)) + " request)";
  }
  if (b.size() >= 8 && load_be32(b.data()) == NBD_EXTENDED_REQUEST_MAGIC) {
    return " (starting with an extended " + describe_command(load_be16(b.data() + 6)) + " request)";
  }
  if (b.size() >= 12 && load_be64(b.data()) == IHAVEOPT) {
    return " (starting with an " + describe_option(load_be32(b.data() + 8)) + " option)";
  }
  return {};
}

Result<void> expect_eof(const Step& step, const ExpectContext& ctx) {
  const Reading reading(step, ctx);
  std::vector<std::uint8_t> got;
  std::uint8_t buf[4096];
  Clock::time_point deadline = reading.deadline();
  for (;;) {
    const ReadResult r = ctx.channel.read_some(buf, deadline);
    const bool reset = r.status == ReadResult::Status::Error && r.errnum == ECONNRESET;
    if (got.empty()) {
      if (r.status == ReadResult::Status::Eof || reset) {
        if (ctx.transcript) {
          ctx.transcript->note(reset ? "the client reset the connection"
                                     : "the client closed the connection");
        }
        return {};
      }
      if (r.status == ReadResult::Status::Timeout) {
        return fail(step, O::Timeout,
                    "the client kept the connection open for " + duration_text(reading.timeout()));
      }
      if (r.status == ReadResult::Status::Error) {
        return fail(step, O::ClientGone, "reading from the client failed: " + r.error);
      }
    }
    if (r.status != ReadResult::Status::Data || got.size() >= 65536) break;
    got.insert(got.end(), buf, buf + r.count);
    // Count what else comes at once, to say how much the client sent.
    deadline = std::min(reading.deadline(), Clock::now() + std::chrono::milliseconds(100));
  }
  if (ctx.transcript) {
    ctx.transcript->client_sent(byte_count(got.size()) + " instead of closing", got);
  }
  return fail(step, O::Mismatch,
              "the client sent " + byte_count(got.size()) + " instead of closing the connection" +
                  looks_like(got));
}

#undef TRY_VOID

}  // namespace

Result<void> run_expectation(const Step& step, Conversation& conversation,
                             const ExpectContext& context) {
  switch (step.kind) {
    case StepKind::ExpectClientFlags:
      return expect_client_flags(step, conversation, context);
    case StepKind::ExpectOption:
      return expect_option(step, conversation, context);
    case StepKind::ExpectRequest:
      return expect_request(step, conversation, context);
    case StepKind::ExpectEof:
      return expect_eof(step, context);
    default:
      return fail(step, O::ScriptError, "expects nothing");
  }
}

}  // namespace nbdref::mock::playback
