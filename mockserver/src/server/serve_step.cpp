#include "server/serve_step.hpp"

#include <cstdlib>
#include <utility>

#include "server/server_session.hpp"
#include "wire/constants.hpp"

namespace nbdref::mock::playback {
namespace {

using script::StepKind;
using O = Verdict::Outcome;

#define TRY(var, expr)                                            \
  auto var##_result = (expr);                                     \
  if (!var##_result) return tl::unexpected(var##_result.error()); \
  auto var = std::move(*var##_result)

Result<ServedExport> export_of(const Step& step, const Variables& vars, ExportStore* disks) {
  const Args a(step, vars);
  ExportConfig x;
  TRY(name, a.text("name", ""));
  TRY(size, a.number("size", DEFAULT_EXPORT_SIZE));
  TRY(description, a.text("description", ""));
  TRY(data, a.bytes("data", {}));
  TRY(read_only, a.boolean("read-only", false));
  TRY(rotational, a.boolean("rotational", false));
  TRY(minimum, a.number("minimum-block", 0, 32));
  TRY(preferred, a.number("preferred-block", 0, 32));
  TRY(maximum, a.number("maximum-payload", 0, 32));
  TRY(flush, a.boolean("flush", true));
  TRY(fua, a.boolean("fua", true));
  TRY(trim, a.boolean("trim", true));
  TRY(write_zeroes, a.boolean("write-zeroes", true));
  TRY(fast_zero, a.boolean("fast-zero", true));
  TRY(cache, a.boolean("cache", true));
  TRY(df, a.boolean("df", true));
  TRY(multi_conn, a.boolean("multi-conn", true));
  x.name = std::move(name);
  x.size = size;
  x.description = std::move(description);
  x.read_only = read_only;
  x.rotational = rotational;
  x.minimum_block = static_cast<std::uint32_t>(minimum);
  x.preferred_block = static_cast<std::uint32_t>(preferred);
  x.maximum_payload = static_cast<std::uint32_t>(maximum);
  x.flush = flush;
  x.fua = fua;
  x.trim = trim;
  x.write_zeroes = write_zeroes;
  x.fast_zero = fast_zero;
  x.cache = cache;
  x.df = df;
  x.multi_conn = multi_conn;
  if (data.size() > size) {
    return fail_key(step, O::ScriptError, "data",
                    "holds " + std::to_string(data.size()) + " bytes, more than the export's " +
                        std::to_string(size));
  }
  if (disks) return disks->get(x, data);
  ServedExport e = make_served_export(std::move(x));
  if (!data.empty()) e.disk->write(0, data);
  return e;
}

}  // namespace

Result<ServeConfig> serve_config(const Step& step, const Conversation& c, ExportStore* disks) {
  const Args a(step, c.variables);
  ServeConfig cfg;
  TRY(structured, a.boolean("structured", true));
  TRY(extended, a.boolean("extended", true));
  TRY(meta, a.boolean("meta-contexts", true));
  TRY(list, a.boolean("list", true));
  TRY(info, a.boolean("info", true));
  // What the script's own greeting offered is what the session must honour.
  const std::uint16_t greeted =
      c.greeting_flags.value_or(wire::NBD_FLAG_FIXED_NEWSTYLE | wire::NBD_FLAG_NO_ZEROES);
  TRY(fixed, a.boolean("fixed-newstyle", greeted & wire::NBD_FLAG_FIXED_NEWSTYLE));
  TRY(no_zeroes, a.boolean("no-zeroes", greeted & wire::NBD_FLAG_NO_ZEROES));
  TRY(oldstyle, a.boolean("oldstyle", false));
  // The vocabulary lets only the fault table's names through.
  const auto fault = script::serve_fault_named(a.word("fault").value_or("none"));
  if (!fault) return fail_key(step, O::ScriptError, "fault", "is not a fault of --help-script");
  cfg.fault = *fault;
  cfg.structured_replies = structured;
  cfg.extended_headers = extended;
  cfg.meta_contexts = meta;
  cfg.list = list;
  cfg.info_and_go = info;
  cfg.fixed_newstyle = fixed;
  cfg.no_zeroes = no_zeroes;
  cfg.oldstyle = oldstyle;
  for (const Step& s : step.body) {
    if (s.kind != StepKind::Export) {
      return fail(s, O::ScriptError, "only export steps belong in a serve block");
    }
    TRY(e, export_of(s, c.variables, disks));
    cfg.exports.push_back(std::move(e));
  }
  if (cfg.exports.empty()) {
    ExportConfig x;
    x.size = DEFAULT_EXPORT_SIZE;
    cfg.exports.push_back(disks ? disks->get(x) : make_served_export(x));
  }
  if (auto problem = config_problem(cfg)) return fail(step, O::ScriptError, *problem);
  return cfg;
}

Result<void> run_serve(const Step& step, const Conversation& c, const ServeContext& ctx) {
  TRY(cfg, serve_config(step, c, ctx.disks));
  if (cfg.oldstyle && c.phase != Phase::BeforeGreeting) {
    return fail(step, O::ScriptError,
                "oldstyle=yes needs the server's greeting still to come, but the conversation "
                "is " +
                    std::string(phase_name(c.phase)));
  }
  ServerSession session(cfg);
  switch (c.phase) {
    case Phase::BeforeGreeting:
      session.start_with_greeting();
      break;
    case Phase::Greeted:
      session.start_after_greeting();
      break;
    case Phase::Options:
      session.start_in_options(c.client_flags.value_or(0));
      break;
    case Phase::Transmission: {
      const std::string name = c.oldstyle ? std::string() : c.export_name;
      const bool structured = !c.oldstyle && c.structured;
      const bool extended = !c.oldstyle && c.extended;
      const auto context = c.oldstyle ? std::nullopt : c.allocation_id;
      if (!session.start_in_transmission(name, structured, extended, context)) {
        if (!cfg.find(name)) {
          return fail(step, O::ScriptError,
                      "cannot take over transmission: no export is named " + quote(name));
        }
        // S-BS-004 (proto.md "Metadata querying"): block status replies need chunks.
        return fail(step, O::ScriptError,
                    "cannot take over transmission: base:allocation was granted (id " +
                        std::to_string(*context) +
                        "), but neither structured replies nor extended headers were");
      }
      break;
    }
  }
  if (ctx.transcript) {
    ctx.transcript->note("serve: the RAM-disk server takes over " +
                         std::string(phase_name(c.phase)));
  }

  const auto gone = [&](const std::string& error) -> Result<void> {
    if (ctx.stop.stop_requested()) return fail(step, O::ClientGone, "the player was stopped");
    if (ctx.transcript) ctx.transcript->note("serve: the client is gone (" + error + ")");
    // S-TX-012 broken by hang-up-ends-server: replies that cannot be sent
    // take the whole server, and every other session, down.
    if (cfg.fault == script::ServeFault::HangUpEndsServer &&
        session.phase() == SessionPhase::Transmission) {
      std::_Exit(EXIT_FAILURE);
    }
    return {};
  };
  std::vector<std::uint8_t> input;  // read, not yet taken by the session
  std::vector<std::uint8_t> buf(64 * 1024);
  std::string error;
  for (;;) {
    const auto out = session.take_output();
    if (!out.empty()) {
      if (ctx.transcript) {
        ctx.transcript->server_sent(byte_count(out.size()) + " from the RAM-disk server", out);
      }
      if (!ctx.output.send(out, error)) return gone(error);
    }
    if (!input.empty() && !session.finished()) {
      const std::size_t n = session.feed(input);
      input.erase(input.begin(), input.begin() + static_cast<std::ptrdiff_t>(n));
      if (n > 0 || session.output_size() > 0) continue;
    }
    if (session.finished() && session.output_size() == 0) break;
    if (!ctx.output.flush(error)) return gone(error);
    const auto deadline =
        ctx.idle_timeout.count() > 0 ? Clock::now() + ctx.idle_timeout : Clock::time_point::max();
    const ReadResult r = ctx.channel.read_some(buf, deadline);
    if (r.status == ReadResult::Status::Data) {
      const auto got = std::span<const std::uint8_t>(buf).first(r.count);
      if (ctx.transcript) {
        ctx.transcript->client_sent(byte_count(r.count) + " for the RAM-disk server", got);
      }
      input.insert(input.end(), got.begin(), got.end());
      continue;
    }
    if (r.status == ReadResult::Status::Timeout) {
      return fail(step, O::Timeout,
                  "nothing from the client for " + duration_text(ctx.idle_timeout));
    }
    if (ctx.stop.stop_requested()) return fail(step, O::ClientGone, "the player was stopped");
    if (ctx.transcript) {
      ctx.transcript->note(r.status == ReadResult::Status::Eof
                               ? "serve: the client closed the connection"
                               : "serve: the client is gone (" + r.error + ")");
    }
    break;
  }
  if (!ctx.output.flush(error)) return gone(error);
  if (session.client_violation()) {
    return fail(step, O::Mismatch, "the client " + *session.client_violation());
  }
  if (ctx.transcript && session.finished()) {
    ctx.transcript->note("serve: " + session.end_reason());
  }
  return {};
}

#undef TRY

}  // namespace nbdref::mock::playback
