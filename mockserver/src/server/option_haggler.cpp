#include "server/option_haggler.hpp"

#include "server/meta_context.hpp"
#include "wire/constants.hpp"
#include "wire/handshake.hpp"
#include "wire/option_reply.hpp"
#include "wire/option_request.hpp"
#include "wire/strings.hpp"

namespace nbdref::mock {
namespace {

using namespace wire;
using Next = OptionOutcome::Next;

// Names the client sent, quoted in messages; clipped so that replies stay
// short strings whatever the client sent (S-GEN-002).
std::string quoted(std::string_view s) {
  constexpr std::size_t SHOWN = 64;
  return "'" + std::string(s.substr(0, SHOWN)) + (s.size() > SHOWN ? "...'" : "'");
}

OptionOutcome ends(Next next, std::string reason) {
  return OptionOutcome{next, std::move(reason), std::nullopt};
}

}  // namespace

void OptionHaggler::reply(std::uint32_t option, std::uint32_t type, Bytes payload) {
  Writer w(out_);
  // S-OPT-020: every reply echoes the option it answers.
  encode_option_reply(option, type, payload, w);
}

void OptionHaggler::refuse(std::uint32_t option, std::uint32_t type, std::string_view message) {
  reply(option, type, as_bytes(message));
}

OptionOutcome OptionHaggler::handle(std::uint32_t option, Bytes data) {
  const bool fixed =
      config_.fixed_newstyle && (negotiation_.client_flags & NBD_FLAG_C_FIXED_NEWSTYLE);
  if (option == NBD_OPT_EXPORT_NAME) return export_name(data);
  if (!fixed) {
    // Plain newstyle has no option replies: NBD_OPT_EXPORT_NAME is all
    // there is (proto.md "Newstyle negotiation"), so anything else can
    // only be met with a disconnect (S-HS-019).
    return ends(Next::Violation, "sent " + describe_option(option) +
                                     " although fixed newstyle was not agreed, so only "
                                     "NBD_OPT_EXPORT_NAME is possible [C-HS-003]");
  }
  switch (option) {
    case NBD_OPT_ABORT:
      // S-OPT-004, S-OPT-005: acknowledged, whatever data came with it.
      reply(option, NBD_REP_ACK);
      return ends(Next::Aborted, "the client ended the handshake with NBD_OPT_ABORT");
    case NBD_OPT_LIST:
      list(data);
      return {};
    case NBD_OPT_STARTTLS:
      // S-TLS-008: this backend speaks no TLS.
      if (!data.empty()) {
        refuse(option, NBD_REP_ERR_INVALID, "NBD_OPT_STARTTLS carries no data");
      } else {
        refuse(option, NBD_REP_ERR_POLICY, "this server does not offer TLS");
      }
      return {};
    case NBD_OPT_INFO:
    case NBD_OPT_GO:
      return info_or_go(option, data);
    case NBD_OPT_STRUCTURED_REPLY:
      structured_reply(data);
      return {};
    case NBD_OPT_LIST_META_CONTEXT:
    case NBD_OPT_SET_META_CONTEXT:
      meta_context(option, data);
      return {};
    case NBD_OPT_EXTENDED_HEADERS:
      extended_headers(data);
      return {};
    default:
      // S-INT-004, S-HS-009: an option we do not know is refused, never a
      // reason to hang up; its data was consumed with it (S-INT-005).
      refuse(option, NBD_REP_ERR_UNSUP, describe_option(option) + " is not supported");
      return {};
  }
}

OptionOutcome OptionHaggler::export_name(Bytes data) {
  if (negotiation_.extended_headers) {
    return ends(Next::Violation,
                "sent NBD_OPT_EXPORT_NAME after extended headers were negotiated [X-C-006]");
  }
  const std::string_view name = as_string_view(data);
  if (auto e = check_string(name, "NBD_OPT_EXPORT_NAME export name", CLIENT_STRING)) {
    return ends(Next::Violation,
                "sent an export name that breaks the rules for strings: " + e->to_string());
  }
  const ServedExport* e = config_.find(name);
  if (!e) {
    // S-HS-005, S-HS-008: this option has no error reply; closing is the answer.
    return ends(Next::Refused, "NBD_OPT_EXPORT_NAME asked for " + quoted(name) +
                                   ", which is not an export; the session ends without a "
                                   "reply [S-HS-005]");
  }
  auto setup = transmission_setup(*e, name, negotiation_);
  // S-HS-015, S-HS-017: the padding goes only when both sides agreed to drop it.
  const bool no_zeroes =
      config_.no_zeroes && (negotiation_.client_flags & NBD_FLAG_C_NO_ZEROES) != 0;
  Writer w(out_);
  encode_export_name_reply({e->config.size, setup.transmission_flags}, !no_zeroes, w);
  return OptionOutcome{Next::Transmission, {}, std::move(setup)};
}

void OptionHaggler::list(Bytes data) {
  if (!data.empty()) {
    // S-OPT-008.
    refuse(NBD_OPT_LIST, NBD_REP_ERR_INVALID, "NBD_OPT_LIST carries no data [C-OPT-008]");
    return;
  }
  if (!config_.list) {
    refuse(NBD_OPT_LIST, NBD_REP_ERR_POLICY, "this server does not list its exports");
    return;
  }
  // S-OPT-007: one NBD_REP_SERVER per export, then the final ACK.
  for (const auto& e : config_.exports) {
    std::vector<std::uint8_t> payload;
    Writer w(payload);
    encode_server_reply({e.config.name, e.config.description}, w);
    reply(NBD_OPT_LIST, NBD_REP_SERVER, payload);
  }
  reply(NBD_OPT_LIST, NBD_REP_ACK);
}

OptionOutcome OptionHaggler::info_or_go(std::uint32_t option, Bytes data) {
  if (!config_.info_and_go) {
    refuse(option, NBD_REP_ERR_UNSUP, describe_option(option) + " is not supported");
    return {};
  }
  auto request = decode_info_request(data);
  if (!request) {
    refuse(option, NBD_REP_ERR_INVALID, request.error().to_string());
    return {};
  }
  const ServedExport* e = config_.find(request->export_name);
  if (!e) {
    // S-OPT-015: no NBD_REP_INFO before NBD_REP_ERR_UNKNOWN.
    refuse(option, NBD_REP_ERR_UNKNOWN, "no export is named " + quoted(request->export_name));
    return {};
  }
  // S-OPT-009: unknown requests are ignored; S-OPT-022: each type answered once.
  bool want_name = false, want_description = false, want_block_size = false;
  for (auto t : request->info_types) {
    want_name |= t == NBD_INFO_NAME;
    want_description |= t == NBD_INFO_DESCRIPTION;
    want_block_size |= t == NBD_INFO_BLOCK_SIZE;
  }
  auto setup = transmission_setup(*e, request->export_name, negotiation_);
  const auto info = [&](const InfoReply& item) {
    std::vector<std::uint8_t> payload;
    Writer w(payload);
    encode_info_reply(item, w);
    reply(option, NBD_REP_INFO, payload);
  };
  // S-OPT-014: NBD_INFO_EXPORT always; S-OPT-017: INFO and GO report the same.
  info(InfoExport{e->config.size, setup.transmission_flags});
  if (want_name) info(InfoName{e->config.name});
  if (want_description && !e->config.description.empty()) {
    info(InfoDescription{e->config.description});
  }
  // S-SZ-001, S-SZ-024: constraints go out when asked for or not the defaults.
  if (want_block_size || e->config.advertises_block_sizes()) info(e->config.block_sizes());
  reply(option, NBD_REP_ACK);
  if (option == NBD_OPT_INFO) return {};
  // S-OPT-019: transmission starts right after the ACK, with no padding.
  return OptionOutcome{Next::Transmission, {}, std::move(setup)};
}

void OptionHaggler::structured_reply(Bytes data) {
  constexpr auto OPT = NBD_OPT_STRUCTURED_REPLY;
  if (!data.empty()) {
    refuse(OPT, NBD_REP_ERR_INVALID, "NBD_OPT_STRUCTURED_REPLY carries no data [C-SR-001]");
  } else if (!config_.structured_replies) {
    refuse(OPT, NBD_REP_ERR_UNSUP, "structured replies are not supported");
  } else if (negotiation_.extended_headers) {
    // X-S-015: extended headers keep precedence.
    refuse(OPT, NBD_REP_ERR_EXT_HEADER_REQD,
           "extended headers are already negotiated and take precedence");
  } else {
    negotiation_.structured_replies = true;
    reply(OPT, NBD_REP_ACK);
  }
}

void OptionHaggler::extended_headers(Bytes data) {
  constexpr auto OPT = NBD_OPT_EXTENDED_HEADERS;
  if (!data.empty()) {
    // X-S-024.
    refuse(OPT, NBD_REP_ERR_INVALID, "NBD_OPT_EXTENDED_HEADERS carries no data [X-C-010]");
  } else if (!config_.extended_headers) {
    refuse(OPT, NBD_REP_ERR_UNSUP, "extended headers are not supported");
  } else {
    // X-S-026: accepted with or without structured replies before it.
    negotiation_.extended_headers = true;
    reply(OPT, NBD_REP_ACK);
  }
}

void OptionHaggler::meta_context(std::uint32_t option, Bytes data) {
  const bool set = option == NBD_OPT_SET_META_CONTEXT;
  if (!config_.meta_contexts) {
    refuse(option, NBD_REP_ERR_UNSUP, "metadata contexts are not supported");
    return;
  }
  if (set) {
    // S-BS-033: every SET replaces the selection, also when it fails.
    negotiation_.allocation_selected = false;
    negotiation_.context_export.clear();
    if (!negotiation_.reply_payloads()) {
      // S-BS-034, X-S-021.
      refuse(option, NBD_REP_ERR_INVALID,
             "NBD_OPT_SET_META_CONTEXT needs structured replies or extended headers first "
             "[C-BS-009, X-C-009]");
      return;
    }
  }
  auto request = decode_meta_context_request(data);
  if (!request) {
    // S-BS-020: a request that does not parse is invalid.
    refuse(option, NBD_REP_ERR_INVALID, request.error().to_string());
    return;
  }
  if (!config_.find(request->export_name)) {
    refuse(option, NBD_REP_ERR_UNKNOWN, "no export is named " + quoted(request->export_name));
    return;
  }
  auto selected =
      queries_select_allocation(request->queries, set ? ContextOption::Set : ContextOption::List);
  if (!selected) {
    refuse(option, NBD_REP_ERR_INVALID, selected.error());
    return;
  }
  if (*selected) {
    std::vector<std::uint8_t> payload;
    Writer w(payload);
    // S-BS-032: ids in a LIST answer are zero.
    encode_meta_context_reply({set ? BASE_ALLOCATION_ID : 0, BASE_ALLOCATION}, w);
    reply(option, NBD_REP_META_CONTEXT, payload);
  }
  if (set) {
    negotiation_.allocation_selected = *selected;
    negotiation_.context_export = std::string(request->export_name);
  }
  // S-BS-023, S-BS-035: nothing matched is a lone ACK.
  reply(option, NBD_REP_ACK);
}

}  // namespace nbdref::mock
