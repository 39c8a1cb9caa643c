// Answers one option of newstyle haggling (proto.md "Option types", "Option
// reply types"): appends the replies to the session's output and says how
// the session goes on.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "server/negotiation.hpp"
#include "server/serve_config.hpp"
#include "server/transmission_setup.hpp"
#include "wire/bytes.hpp"
#include "wire/option_reply.hpp"

namespace nbdref::mock {

struct OptionOutcome {
  enum class Next {
    Options,       // wait for the next option
    Transmission,  // NBD_OPT_GO acknowledged or NBD_OPT_EXPORT_NAME answered
    Aborted,       // NBD_OPT_ABORT acknowledged
    Refused,       // NBD_OPT_EXPORT_NAME named no export: the session ends unanswered
    Violation,     // the client broke a rule no reply can answer: hard disconnect
  };
  Next next = Next::Options;
  std::string reason;                      // for Refused and Violation
  std::optional<TransmissionSetup> setup;  // for Transmission
};

class OptionHaggler {
 public:
  OptionHaggler(const ServeConfig& config, Negotiation& negotiation, std::vector<std::uint8_t>& out)
      : config_(config), negotiation_(negotiation), out_(out) {}

  // Answers `option`, whose whole data is `data`, and returns how the
  // session goes on. Never fails: a refusal is an error reply.
  OptionOutcome handle(std::uint32_t option, wire::Bytes data);
  // Whether `option` is one this server implements.
  static bool knows(std::uint32_t option);

 private:
  OptionOutcome export_name(wire::Bytes data);
  void list(wire::Bytes data);
  OptionOutcome info_or_go(std::uint32_t option, wire::Bytes data);
  void structured_reply(wire::Bytes data);
  void extended_headers(wire::Bytes data);
  void meta_context(std::uint32_t option, wire::Bytes data);

  bool faulty(script::ServeFault fault) const { return config_.fault == fault; }
  void reply(std::uint32_t option, std::uint32_t type, wire::Bytes payload = {});
  void meta_context_reply(std::uint32_t option, std::uint32_t id, std::string_view name);
  // The refusal the server's fault gives these meta context queries, if any.
  std::optional<std::string> faulty_query(std::span<const std::string_view> queries) const;
  // One NBD_REP_INFO.
  void info_reply(std::uint32_t option, const wire::InfoReply& item);
  // An error reply with a message for the user (S-OPT-027).
  void refuse(std::uint32_t option, std::uint32_t type, std::string_view message);

  const ServeConfig& config_;
  Negotiation& negotiation_;
  std::vector<std::uint8_t>& out_;
};

}  // namespace nbdref::mock
