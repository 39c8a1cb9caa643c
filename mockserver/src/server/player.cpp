#include "server/player.hpp"

#include "server/expectation.hpp"
#include "server/play_support.hpp"
#include "server/serve_step.hpp"
#include "server/step_encoder.hpp"

namespace nbdref::mock {

std::string Verdict::describe() const {
  return passed() ? std::string("completed") : message;
}

namespace {

using namespace playback;
using script::Role;
using script::StepKind;
using O = Verdict::Outcome;

// Whether the play goes on after a step.
enum class Flow { Continue, Stop };

class Player {
 public:
  Player(Channel& channel, const PlayOptions& options)
      : channel_(channel), options_(options), output_(channel, options.stop) {}

  Result<Flow> run_steps(const std::vector<Step>& steps) {
    for (std::size_t i = 0; i < steps.size(); ++i) {
      auto flow = run_step(steps[i]);
      if (!flow || *flow == Flow::Stop) {
        if (flow && i + 1 < steps.size() && !noted_stop_) {
          noted_stop_ = true;
          note("the steps after " + step_prefix(steps[i]) + " are not run");
        }
        return flow;
      }
    }
    return Flow::Continue;
  }

 private:
  void note(std::string text) {
    if (options_.transcript) options_.transcript->note(std::move(text));
  }

  Result<void> flush(const Step& step) {
    std::string error;
    if (output_.flush(error)) return {};
    return write_failed(step, error);
  }

  tl::unexpected<Failure> write_failed(const Step& step, const std::string& error) {
    if (options_.stop.stop_requested()) return fail(step, O::ClientGone, "the player was stopped");
    return fail(step, O::ClientGone, "the client is gone: sending failed (" + error + ")");
  }

  Result<Flow> send(const Step& step) {
    if (half_closed_) {
      return fail(step, O::ScriptError,
                  "cannot send after the half-close" +
                      (half_close_line_ ? " on line " + std::to_string(half_close_line_) : ""));
    }
    auto encoded = encode_step(step, conversation_);
    if (!encoded) return tl::unexpected(encoded.error());
    if (options_.transcript) options_.transcript->server_sent(encoded->description, encoded->bytes);
    std::string error;
    if (!output_.send(encoded->bytes, error)) return write_failed(step, error);
    apply_sent(*encoded, conversation_);
    return Flow::Continue;
  }

  Result<Flow> expect(const Step& step) {
    if (auto f = flush(step); !f) return tl::unexpected(f.error());
    const ExpectContext ctx{channel_, options_.transcript, options_.default_timeout};
    if (auto r = run_expectation(step, conversation_, ctx); !r) return tl::unexpected(r.error());
    return Flow::Continue;
  }

  Result<Flow> control(const Step& step) {
    const Args args(step, conversation_.variables);
    switch (step.kind) {
      case StepKind::Close: {
        if (auto f = flush(step); !f) return tl::unexpected(f.error());
        channel_.close();
        note("close: the server closed the connection");
        return Flow::Stop;
      }
      case StepKind::HalfClose: {
        if (auto f = flush(step); !f) return tl::unexpected(f.error());
        channel_.shutdown_write();
        half_closed_ = true;
        half_close_line_ = step.where.line;
        note("half-close: the server sends no more");
        return Flow::Continue;
      }
      case StepKind::Pause: {
        if (auto f = flush(step); !f) return tl::unexpected(f.error());
        const auto ms = std::chrono::milliseconds(
            step.subjects.empty() ? 0 : static_cast<std::int64_t>(step.subjects.front().number));
        note("pause " + duration_text(ms));
        if (!sleep_for(ms, options_.stop))
          return fail(step, O::ClientGone, "the player was stopped");
        return Flow::Continue;
      }
      case StepKind::Fragments: {
        auto size = args.subject_number(0);
        if (!size) return tl::unexpected(size.error());
        if (*size == 0) return fail(step, O::ScriptError, "pieces need at least 1 byte");
        const auto gap = args.duration("gap", std::chrono::milliseconds(1));
        if (auto f = flush(step); !f) return tl::unexpected(f.error());
        note("fragments: pieces of " + byte_count(*size) + ", " + duration_text(gap) + " apart");
        output_.begin_fragments(static_cast<std::size_t>(*size), gap);
        auto flow = run_steps(step.body);
        if (!flow) return flow;
        auto f = flush(step);
        output_.end_fragments();
        if (!f) return tl::unexpected(f.error());
        return flow;
      }
      case StepKind::Repeat: {
        auto count = args.subject_number(0);
        if (!count) return tl::unexpected(count.error());
        for (std::uint64_t i = 0; i < *count; ++i) {
          auto flow = run_steps(step.body);
          if (!flow || *flow == Flow::Stop) return flow;
        }
        return Flow::Continue;
      }
      case StepKind::Serve: {
        if (half_closed_) {
          return fail(step, O::ScriptError,
                      "cannot serve after the half-close" +
                          (half_close_line_ ? " on line " + std::to_string(half_close_line_) : ""));
        }
        if (auto f = flush(step); !f) return tl::unexpected(f.error());
        const ServeContext ctx{channel_,
                               output_,
                               options_.transcript,
                               options_.disks.get(),
                               options_.serve_idle_timeout,
                               options_.stop};
        if (auto r = run_serve(step, conversation_, ctx); !r) return tl::unexpected(r.error());
        return Flow::Stop;
      }
      case StepKind::Export:
        return fail(step, O::ScriptError, "export steps belong in a serve block");
      default:
        return fail(step, O::ScriptError, "is not a control step");
    }
  }

  Result<Flow> run_step(const Step& step) {
    if (options_.stop.stop_requested()) {
      return fail(step, O::ClientGone, "the player was stopped");
    }
    switch (script::form_of(step.kind).role) {
      case Role::Send:
        return send(step);
      case Role::Expect:
        return expect(step);
      case Role::Control:
        return control(step);
    }
    return Flow::Continue;
  }

  Channel& channel_;
  const PlayOptions& options_;
  Output output_;
  Conversation conversation_;
  bool half_closed_ = false;
  std::size_t half_close_line_ = 0;
  bool noted_stop_ = false;
};

}  // namespace

Verdict play(const script::Script& script, Channel& channel, const PlayOptions& options) {
  Player player(channel, options);
  auto flow = player.run_steps(script.steps);
  if (flow) return Verdict{};
  return Verdict{flow.error().outcome, flow.error().message, flow.error().where};
}

}  // namespace nbdref::mock
