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
using script::ServeFault;

// Names the client sent, quoted in messages; clipped so that replies stay
// short strings whatever the client sent (S-GEN-002).
std::string quoted(std::string_view s) {
  constexpr std::size_t SHOWN = 64;
  return "'" + std::string(s.substr(0, SHOWN)) + (s.size() > SHOWN ? "...'" : "'");
}

OptionOutcome ends(Next next, std::string reason) {
  return OptionOutcome{next, std::move(reason), std::nullopt};
}

// NBD_OPT_INFO / NBD_OPT_GO data whose lengths add up, without the rules
// for strings that decode_info_request() also applies.
std::optional<InfoRequest> unchecked_info_request(Bytes data) {
  if (data.size() < 6) return std::nullopt;
  const std::uint32_t name_length = load_be32(data.data());
  if (name_length > data.size() - 6) return std::nullopt;
  const std::size_t count_at = 4 + std::size_t{name_length};
  const std::uint16_t count = load_be16(data.data() + count_at);
  if (data.size() - count_at - 2 != std::size_t{count} * 2) return std::nullopt;
  InfoRequest request;
  request.export_name = as_string_view(data.subspan(4, name_length));
  for (std::size_t i = 0; i < count; ++i) {
    request.info_types.push_back(load_be16(data.data() + count_at + 2 + 2 * i));
  }
  return request;
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

bool OptionHaggler::knows(std::uint32_t option) {
  switch (option) {
    case NBD_OPT_EXPORT_NAME:
    case NBD_OPT_ABORT:
    case NBD_OPT_LIST:
    case NBD_OPT_STARTTLS:
    case NBD_OPT_INFO:
    case NBD_OPT_GO:
    case NBD_OPT_STRUCTURED_REPLY:
    case NBD_OPT_LIST_META_CONTEXT:
    case NBD_OPT_SET_META_CONTEXT:
    case NBD_OPT_EXTENDED_HEADERS:
      return true;
    default:
      return false;
  }
}

OptionOutcome OptionHaggler::handle(std::uint32_t option, Bytes data) {
  const bool fixed =
      config_.fixed_newstyle && (negotiation_.client_flags & NBD_FLAG_C_FIXED_NEWSTYLE);
  if (option == NBD_OPT_EXPORT_NAME) return export_name(data);
  if (!fixed && option == NBD_OPT_STARTTLS &&
      faulty(ServeFault::StarttlsAckedWithoutFixedNewstyle)) {
    // S-TLS-007 broken: no TLS follows, the session simply goes on.
    reply(option, NBD_REP_ACK);
    return {};
  }
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
      if (faulty(ServeFault::AbortWithDataInvalid) && !data.empty()) {
        refuse(option, NBD_REP_ERR_INVALID, "NBD_OPT_ABORT carries no data");
        return {};
      }
      // S-OPT-004, S-OPT-005: acknowledged, whatever data came with it.
      if (!faulty(ServeFault::AbortWithoutAck)) reply(option, NBD_REP_ACK);
      return ends(Next::Aborted, "the client ended the handshake with NBD_OPT_ABORT");
    case NBD_OPT_LIST:
      list(data);
      return {};
    case NBD_OPT_STARTTLS:
      // S-TLS-008: this backend speaks no TLS.
      if (!data.empty() || faulty(ServeFault::StarttlsInvalid)) {
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
      // S-OPT-020 broken by unsup-names-option-zero: the reply names option 0.
      refuse(faulty(ServeFault::UnsupNamesOptionZero) ? 0 : option,
             faulty(ServeFault::UnknownOptionInvalid) ? NBD_REP_ERR_INVALID : NBD_REP_ERR_UNSUP,
             describe_option(option) + " is not supported");
      return {};
  }
}

OptionOutcome OptionHaggler::export_name(Bytes data) {
  if (negotiation_.extended_headers) {
    return ends(Next::Violation,
                "sent NBD_OPT_EXPORT_NAME after extended headers were negotiated [X-C-006]");
  }
  if (faulty(ServeFault::ExportNameUnsupported)) {
    return ends(Next::Refused, "NBD_OPT_EXPORT_NAME is not supported by this server");
  }
  const std::string_view name = as_string_view(data);
  if (auto e = check_string(name, "NBD_OPT_EXPORT_NAME export name", CLIENT_STRING)) {
    return ends(Next::Violation,
                "sent an export name that breaks the rules for strings: " + e->to_string());
  }
  const ServedExport* e = config_.find(name);
  if (!e && faulty(ServeFault::ExportNameUnknownServesDefault)) e = config_.find("");
  if (!e) {
    // S-HS-005, S-HS-008: this option has no error reply; closing is the answer.
    return ends(Next::Refused, "NBD_OPT_EXPORT_NAME asked for " + quoted(name) +
                                   ", which is not an export; the session ends without a "
                                   "reply [S-HS-005]");
  }
  auto setup = transmission_setup(*e, name, negotiation_, config_.fault);
  // S-HS-015, S-HS-017: the padding goes only when both sides agreed to drop it.
  const bool no_zeroes =
      faulty(ServeFault::ExportNameNoPadding) ||
      (config_.no_zeroes && (negotiation_.client_flags & NBD_FLAG_C_NO_ZEROES) != 0 &&
       !faulty(ServeFault::ExportNamePaddingDespiteNoZeroes));
  Writer w(out_);
  encode_export_name_reply({e->config.size, setup.transmission_flags}, !no_zeroes, w);
  return OptionOutcome{Next::Transmission, {}, std::move(setup)};
}

void OptionHaggler::list(Bytes data) {
  if (faulty(ServeFault::ListUnsupported)) {
    refuse(NBD_OPT_LIST, NBD_REP_ERR_UNSUP, "NBD_OPT_LIST is not supported");
    return;
  }
  if (!data.empty() && !faulty(ServeFault::ListIgnoresData)) {
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
    // S-OPT-021 broken: the name length counts the whole reply.
    if (faulty(ServeFault::ListNameLengthOverrun)) {
      store_be32(payload.data(), static_cast<std::uint32_t>(payload.size()));
    }
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
  if (!request && faulty(ServeFault::LongNameEchoed)) {
    // S-GEN-003 broken: a name over 4096 bytes is looked up rather than refused.
    if (auto r = unchecked_info_request(data); r && r->export_name.size() > MAX_STRING_LENGTH) {
      request = std::move(*r);
    }
  }
  if (!request && faulty(ServeFault::MalformedInfoAccepted)) {
    // S-INT-005 broken: fields that overrun the data are taken for a plain request.
    request = InfoRequest{};
  }
  if (!request) {
    refuse(option, NBD_REP_ERR_INVALID, request.error().to_string());
    return {};
  }
  std::string_view name = request->export_name;
  const ServedExport* e = config_.find(name);
  if (!e && faulty(ServeFault::LongNameEchoed) && name.size() > MAX_STRING_LENGTH) {
    e = config_.find("");
  }
  if (!e) {
    if (faulty(ServeFault::TlsReqdForUnknownExport)) {
      refuse(option, NBD_REP_ERR_TLS_REQD, "no export is named " + quoted(name));
      return {};
    }
    if (faulty(ServeFault::InfoBeforeUnknown) && !config_.exports.empty()) {
      const ServedExport& d = *config_.find("");
      info_reply(option, InfoExport{d.config.size, d.config.transmission_flags(false)});
    }
    // S-OPT-015: no NBD_REP_INFO before NBD_REP_ERR_UNKNOWN.
    refuse(option, NBD_REP_ERR_UNKNOWN, "no export is named " + quoted(name));
    return {};
  }
  // S-OPT-009: unknown requests are ignored; S-OPT-022: each type answered once.
  bool want_name = false, want_description = false, want_block_size = false, unknown = false;
  for (auto t : request->info_types) {
    want_name |= t == NBD_INFO_NAME;
    want_description |= t == NBD_INFO_DESCRIPTION;
    want_block_size |= t == NBD_INFO_BLOCK_SIZE;
    unknown |= t != NBD_INFO_EXPORT && t != NBD_INFO_NAME && t != NBD_INFO_DESCRIPTION &&
               t != NBD_INFO_BLOCK_SIZE;
  }
  if (unknown && faulty(ServeFault::UnknownInfoRequestInvalid)) {
    refuse(option, NBD_REP_ERR_INVALID, "unknown information request");
    return {};
  }
  const bool silently = faulty(ServeFault::BlockSizeRequiredSilently);
  if (!want_block_size && (faulty(ServeFault::BlockSizeRequired) || silently)) {
    // S-INT-010 broken; S-SZ-023 kept unless `silently`.
    if (!silently) info_reply(option, e->config.block_sizes());
    refuse(option, NBD_REP_ERR_BLOCK_SIZE_REQD, "request NBD_INFO_BLOCK_SIZE");
    return {};
  }
  if (want_block_size && faulty(ServeFault::BlockSizeRefusedWhenRequested)) {
    refuse(option, NBD_REP_ERR_BLOCK_SIZE_REQD, "block sizes are required");
    return {};
  }
  if (option == NBD_OPT_GO && !negotiation_.extended_headers &&
      faulty(ServeFault::ExtendedHeadersRequired)) {
    // X-S-043 broken: compact headers are not served.
    refuse(option, NBD_REP_ERR_EXT_HEADER_REQD, "extended headers are required");
    return {};
  }
  auto setup = transmission_setup(*e, name, negotiation_, config_.fault);
  const bool info = option == NBD_OPT_INFO;
  // S-OPT-014: NBD_INFO_EXPORT always; S-OPT-017: INFO and GO report the same.
  const InfoExport exported{info && faulty(ServeFault::InfoSizeZero) ? 0 : e->config.size,
                            setup.transmission_flags};
  if (!(info && faulty(ServeFault::InfoWithoutExport))) info_reply(option, exported);
  if (faulty(ServeFault::InfoExportTwice)) info_reply(option, exported);
  if (want_name) {
    const std::string_view canonical =
        faulty(ServeFault::LongNameEchoed) && name.size() > MAX_STRING_LENGTH ? name
                                                                              : e->config.name;
    info_reply(option, InfoName{canonical});
  }
  if (want_description && !e->config.description.empty()) {
    info_reply(option, InfoDescription{e->config.description});
  }
  // S-SZ-001, S-SZ-024: constraints go out when asked for or not the
  // defaults; never with block-sizes-unadvertised.
  if ((want_block_size || e->config.advertises_block_sizes()) &&
      !faulty(ServeFault::BlockSizesUnadvertised)) {
    info_reply(option, e->config.block_sizes());
  }
  reply(option, NBD_REP_ACK);
  if (info) return {};
  // S-OPT-019: transmission starts right after the ACK, with no padding.
  if (faulty(ServeFault::GoAckPadding)) {
    out_.insert(out_.end(), EXPORT_NAME_REPLY_PADDING, 0);
  }
  return OptionOutcome{Next::Transmission, {}, std::move(setup)};
}

void OptionHaggler::info_reply(std::uint32_t option, const InfoReply& item) {
  std::vector<std::uint8_t> payload;
  Writer w(payload);
  encode_info_reply(item, w);
  const std::uint16_t type = load_be16(payload.data());
  // S-OPT-023 broken: one byte more than NBD_INFO_EXPORT holds.
  if (type == NBD_INFO_EXPORT && option == NBD_OPT_INFO && faulty(ServeFault::InfoExportTooLong)) {
    payload.push_back(0);
  }
  // S-GEN-001 broken: a NUL in a string.
  if (type == NBD_INFO_NAME && faulty(ServeFault::InfoNameWithNul)) payload.push_back(0);
  // S-SZ-013 broken: a maximum payload below the preferred block size.
  if (type == NBD_INFO_BLOCK_SIZE && faulty(ServeFault::MaximumBelowPreferred)) {
    constexpr std::size_t PREFERRED_AT = 6, MAXIMUM_AT = 10;
    store_be32(payload.data() + MAXIMUM_AT, load_be32(payload.data() + PREFERRED_AT) / 2);
  }
  reply(option, NBD_REP_INFO, payload);
}

void OptionHaggler::structured_reply(Bytes data) {
  constexpr auto OPT = NBD_OPT_STRUCTURED_REPLY;
  if (!data.empty() && !faulty(ServeFault::StructuredReplyIgnoresData)) {
    refuse(OPT, NBD_REP_ERR_INVALID, "NBD_OPT_STRUCTURED_REPLY carries no data [C-SR-001]");
  } else if (!config_.structured_replies) {
    refuse(OPT, NBD_REP_ERR_UNSUP, "structured replies are not supported");
  } else if (negotiation_.extended_headers) {
    // X-S-015: extended headers keep precedence.
    refuse(OPT, NBD_REP_ERR_EXT_HEADER_REQD,
           "extended headers are already negotiated and take precedence");
  } else {
    // S-SR-011 broken by structured-reply-twice-resets: a repeat turns them off.
    negotiation_.structured_replies =
        !(negotiation_.structured_replies && faulty(ServeFault::StructuredReplyTwiceResets));
    reply(OPT, NBD_REP_ACK);
  }
}

void OptionHaggler::extended_headers(Bytes data) {
  constexpr auto OPT = NBD_OPT_EXTENDED_HEADERS;
  if (!data.empty() && !faulty(ServeFault::ExtendedHeadersIgnoresData)) {
    // X-S-024.
    refuse(OPT, NBD_REP_ERR_INVALID, "NBD_OPT_EXTENDED_HEADERS carries no data [X-C-010]");
  } else if (!config_.extended_headers) {
    refuse(OPT, NBD_REP_ERR_UNSUP, "extended headers are not supported");
  } else if (!negotiation_.structured_replies &&
             faulty(ServeFault::ExtendedHeadersNeedStructuredReplies)) {
    refuse(OPT, NBD_REP_ERR_INVALID, "negotiate structured replies first");
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
  const Negotiation before = negotiation_;
  if (set) {
    // S-BS-033: every SET replaces the selection, also when it fails.
    negotiation_.allocation_selected = false;
    negotiation_.context_export.clear();
    if (!negotiation_.reply_payloads() && !faulty(ServeFault::SetWithoutStructuredReplies)) {
      // S-BS-034, X-S-021.
      refuse(option, NBD_REP_ERR_INVALID,
             "NBD_OPT_SET_META_CONTEXT needs structured replies or extended headers first "
             "[C-BS-009, X-C-009]");
      return;
    }
  }
  auto request = decode_meta_context_request(data);
  if (!request) {
    if (faulty(ServeFault::MalformedContextQueryAcked)) {
      reply(option, NBD_REP_ACK);
      return;
    }
    // S-BS-020: a request that does not parse is invalid.
    refuse(option, NBD_REP_ERR_INVALID, request.error().to_string());
    return;
  }
  if (!config_.find(request->export_name)) {
    refuse(option, NBD_REP_ERR_UNKNOWN, "no export is named " + quoted(request->export_name));
    return;
  }
  if (set && request->queries.empty() && faulty(ServeFault::EmptySetKeepsSelection)) {
    // S-BS-033 broken: an empty SET leaves the earlier selection in place.
    negotiation_ = before;
    reply(option, NBD_REP_ACK);
    return;
  }
  std::span<const std::string_view> queries = request->queries;
  // S-BS-027 broken by list-first-query-only: the other queries go unread.
  if (!set && queries.size() > 1 && faulty(ServeFault::ListFirstQueryOnly)) {
    queries = queries.first(1);
  }
  if (auto refusal = faulty_query(queries)) {
    refuse(option, NBD_REP_ERR_INVALID, *refusal);
    return;
  }
  if (!set && request->queries.empty() && faulty(ServeFault::ListAllContextsTooBig)) {
    refuse(option, NBD_REP_ERR_TOO_BIG, "too many contexts to list");
    return;
  }
  auto selected =
      queries_select_allocation(queries, set ? ContextOption::Set : ContextOption::List);
  if (!selected) {
    refuse(option, NBD_REP_ERR_INVALID, selected.error());
    return;
  }
  const auto asked = [&](std::string_view query) {
    for (auto q : queries) {
      if (q == query) return true;
    }
    return false;
  };
  if (!set && faulty(ServeFault::BaseWildcardIgnored) && asked("base:") &&
      !asked(BASE_ALLOCATION)) {
    *selected = false;
  }
  if (set && faulty(ServeFault::SetBaseWildcardSelects) && asked("base:")) *selected = true;
  if (set && faulty(ServeFault::EmptySetSelectsAllocation) && request->queries.empty()) {
    *selected = true;
  }
  if (*selected) {
    // S-BS-032: ids in a LIST answer are zero.
    const std::uint32_t id =
        set || faulty(ServeFault::ListedContextNonzeroId) ? BASE_ALLOCATION_ID : 0;
    const std::string_view name =
        faulty(ServeFault::ContextNameWithoutNamespace) ? "allocation" : BASE_ALLOCATION;
    const int copies = set && faulty(ServeFault::SetContextTwice) ? 2 : 1;
    for (int i = 0; i < copies; ++i) meta_context_reply(option, id, name);
  }
  if (!set && request->queries.empty() && faulty(ServeFault::UnregisteredNamespace)) {
    meta_context_reply(option, 0, "nbdref:dirty");
  }
  if (set) {
    negotiation_.allocation_selected = *selected;
    negotiation_.context_export = std::string(request->export_name);
  }
  // S-BS-023, S-BS-035: nothing matched is a lone ACK.
  reply(option, NBD_REP_ACK);
}

void OptionHaggler::meta_context_reply(std::uint32_t option, std::uint32_t id,
                                       std::string_view name) {
  std::vector<std::uint8_t> payload;
  Writer w(payload);
  encode_meta_context_reply({id, name}, w);
  reply(option, NBD_REP_META_CONTEXT, payload);
}

std::optional<std::string> OptionHaggler::faulty_query(
    std::span<const std::string_view> queries) const {
  for (auto q : queries) {
    const auto colon = q.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view ns = q.substr(0, colon);
    const std::string_view leaf = q.substr(colon + 1);
    // S-BS-022 broken: unknown namespaces are errors, not ignored.
    if (ns != "base" && faulty(ServeFault::UnknownNamespaceInvalid)) {
      return "unknown namespace '" + std::string(ns.substr(0, 64)) + "'";
    }
    // S-BS-014 broken: unknown base: leaves are errors, not ignored.
    if (ns == "base" && !leaf.empty() && q != BASE_ALLOCATION &&
        faulty(ServeFault::UnknownBaseLeafInvalid)) {
      return "unknown context '" + std::string(q.substr(0, 64)) + "'";
    }
  }
  return std::nullopt;
}

}  // namespace nbdref::mock
