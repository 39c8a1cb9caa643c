// Checks of metadata context negotiation (proto.md "Metadata querying",
// "The base: metadata namespace", "NBD_OPT_LIST_META_CONTEXT",
// "NBD_OPT_SET_META_CONTEXT", "NBD_REP_META_CONTEXT").
#include <map>

#include "checks/areas.hpp"
#include "checks/check_support.hpp"
#include "probe/printable.hpp"
#include "probe/probe_error.hpp"
#include "runner/check_context.hpp"
#include "wire/bytes.hpp"
#include "wire/constants.hpp"
#include "wire/limits.hpp"
#include "wire/strings.hpp"
#include "wire/writer.hpp"

namespace nbdref::conform {
namespace {

using namespace wire;

constexpr std::string_view kBaseAllocation = "base:allocation";

struct ListedContext {
  std::uint32_t id = 0;
  std::string name;
};

// A connection with structured replies negotiated, ready for metadata
// context options; not applicable without structured replies.
Probe structured_session(CheckContext& ctx) {
  Probe probe = ctx.connect_newstyle();
  const OptionReplies r = probe.request_option(NBD_OPT_STRUCTURED_REPLY);
  if (r.back().type != NBD_REP_ACK) {
    throw CheckAbort{Status::NotApplicable,
                     "the server does not offer structured replies (" + r.back().describe() + ")"};
  }
  return probe;
}

// The contexts of NBD_REP_META_CONTEXT replies (ids and raw names).
std::vector<ListedContext> contexts_of(const OptionReplies& replies) {
  std::vector<ListedContext> out;
  for (const OptionReply& r : replies) {
    if (r.type != NBD_REP_META_CONTEXT) continue;
    if (r.payload.size() < 4) {
      // S-BS-024, S-BS-037: the reply is a context id, then the name.
      const char* clause = r.option == NBD_OPT_SET_META_CONTEXT ? "S-BS-037" : "S-BS-024";
      throw ProbeError(ProbeError::Kind::Violation,
                       "an NBD_REP_META_CONTEXT reply of " + std::to_string(r.payload.size()) +
                           " bytes has no room for its context id [" + clause + "]",
                       clause);
    }
    out.push_back(
        {load_be32(r.payload.data()), std::string(as_string_view(Bytes(r.payload).subspan(4)))});
  }
  return out;
}

// The option's replies; not applicable when the server does not implement
// it (NBD_REP_ERR_UNSUP).
OptionReplies meta_context_request(Probe& probe, std::uint32_t option, std::string_view name,
                                   const std::vector<std::string>& queries) {
  OptionReplies r = probe.request_meta_context(option, name, queries);
  if (r.back().type == NBD_REP_ERR_UNSUP) {
    throw CheckAbort{Status::NotApplicable,
                     "the server does not implement " + describe_option(option)};
  }
  return r;
}

// Every context the server lists for the target's export with no query.
std::vector<ListedContext> list_all(CheckContext& ctx) {
  Probe probe = structured_session(ctx);
  const OptionReplies r =
      meta_context_request(probe, NBD_OPT_LIST_META_CONTEXT, ctx.export_name(), {});
  return contexts_of(r);
}

bool lists(const std::vector<ListedContext>& contexts, std::string_view name) {
  for (const ListedContext& c : contexts) {
    if (c.name == name) return true;
  }
  return false;
}

// S-BS-024, S-BS-025 (proto.md "NBD_OPT_LIST_META_CONTEXT").
Outcome list_all_contexts(CheckContext& ctx) {
  Probe probe = structured_session(ctx);
  const OptionReplies r =
      meta_context_request(probe, NBD_OPT_LIST_META_CONTEXT, ctx.export_name(), {});
  for (std::size_t i = 0; i + 1 < r.size(); ++i) {
    if (r[i].type != NBD_REP_META_CONTEXT) {
      return ctx.fail("reply " + std::to_string(i + 1) + " is " + r[i].describe(),
                      "NBD_OPT_LIST_META_CONTEXT is answered with NBD_REP_META_CONTEXT replies, "
                      "then NBD_REP_ACK or an error [S-BS-024, S-BS-025]");
    }
  }
  if (r.back().is_error()) return ctx.pass("answered " + r.back().describe());
  return ctx.pass(std::to_string(r.size() - 1) + " contexts listed");
}

// S-BS-026 (proto.md "NBD_OPT_LIST_META_CONTEXT").
Outcome list_all_not_too_big(CheckContext& ctx) {
  Probe probe = structured_session(ctx);
  const OptionReplies r =
      meta_context_request(probe, NBD_OPT_LIST_META_CONTEXT, ctx.export_name(), {});
  if (r.back().type == NBD_REP_ERR_TOO_BIG) {
    return ctx.fail("NBD_OPT_LIST_META_CONTEXT with no query was answered NBD_REP_ERR_TOO_BIG",
                    "listing every context does not fail with NBD_REP_ERR_TOO_BIG [S-BS-026]");
  }
  return ctx.pass();
}

// S-BS-005, S-BS-006, S-BS-031, S-BS-039 (proto.md "Metadata querying",
// "NBD_REP_META_CONTEXT").
Outcome context_names(CheckContext& ctx) {
  const std::vector<ListedContext> contexts = list_all(ctx);
  if (contexts.empty()) return ctx.not_applicable("the server lists no metadata context");
  const std::string required =
      "context names are a non-empty namespace of printable characters without space or colon, "
      "a colon and a leaf [S-BS-005, S-BS-031], valid UTF-8 [S-BS-039] within the string rules "
      "[S-BS-006]";
  for (const ListedContext& c : contexts) {
    if (auto problem = check_string(c.name, "context name", SERVER_STRING)) {
      return ctx.fail(problem->to_string(), required);
    }
    if (!is_valid_utf8(c.name)) {
      return ctx.fail("context name " + quoted(c.name) + " is not valid UTF-8", required);
    }
    const std::size_t colon = c.name.find(':');
    if (colon == std::string::npos || colon == 0) {
      return ctx.fail("context name " + quoted(c.name) + " lacks a namespace and a colon",
                      required);
    }
    for (std::size_t i = 0; i < colon; ++i) {
      const auto b = static_cast<unsigned char>(c.name[i]);
      if (b <= 0x20 || b == 0x7f) {
        return ctx.fail(
            "the namespace of context " + quoted(c.name) + " holds a space or control character",
            required);
      }
    }
  }
  return ctx.pass();
}

// S-BS-007 (proto.md "Metadata querying").
Outcome context_namespaces(CheckContext& ctx) {
  const std::vector<ListedContext> contexts = list_all(ctx);
  if (contexts.empty()) return ctx.not_applicable("the server lists no metadata context");
  for (const ListedContext& c : contexts) {
    const std::string ns = c.name.substr(0, c.name.find(':'));
    if (ns != "base" && ns != "nbd-server" && ns != "qemu" && !ns.starts_with("x-")) {
      return ctx.fail("context " + quoted(c.name) + " is in namespace " + quoted(ns),
                      "namespaces are base, nbd-server, x-* or a registered one (qemu) "
                      "[S-BS-007]");
    }
  }
  return ctx.pass();
}

// S-BS-032 (proto.md "NBD_OPT_LIST_META_CONTEXT").
Outcome list_ids_zero(CheckContext& ctx) {
  const std::vector<ListedContext> contexts = list_all(ctx);
  if (contexts.empty()) return ctx.not_applicable("the server lists no metadata context");
  for (const ListedContext& c : contexts) {
    if (c.id != 0) {
      return ctx.fail("context " + quoted(c.name) + " was listed with id " + std::to_string(c.id),
                      "context ids in replies to NBD_OPT_LIST_META_CONTEXT are zero [S-BS-032]");
    }
  }
  return ctx.pass();
}

// S-BS-013, X-S-020 (proto.md "The base: metadata namespace"; the
// extended-headers text, "NBD_OPT_LIST_META_CONTEXT").
Outcome list_base_wildcard(CheckContext& ctx) {
  if (!lists(list_all(ctx), kBaseAllocation)) {
    return ctx.not_applicable("the server does not list base:allocation");
  }
  Probe probe = structured_session(ctx);
  const OptionReplies r =
      meta_context_request(probe, NBD_OPT_LIST_META_CONTEXT, ctx.export_name(), {"base:"});
  if (r.back().type != NBD_REP_ACK || !lists(contexts_of(r), kBaseAllocation)) {
    return ctx.fail(
        "the query \"base:\" was answered " + reply_types(r) + " without base:allocation",
        "\"base:\" in NBD_OPT_LIST_META_CONTEXT lists every supported base: "
        "context [S-BS-013], without NBD_REP_ERR_EXT_HEADER_REQD [X-S-020]");
  }
  return ctx.pass();
}

// S-BS-027 (proto.md "NBD_OPT_LIST_META_CONTEXT"): with queries, the reply
// lists the contexts matching at least one of them. Each context listed
// with no query (up to 16) is asked for by its full name, alone and after
// a query matching nothing; both replies must list it.
Outcome list_query_matches(CheckContext& ctx) {
  std::vector<ListedContext> all = list_all(ctx);
  if (all.empty()) return ctx.not_applicable("the server lists no metadata context");
  constexpr std::size_t kMostAsked = 16;
  if (all.size() > kMostAsked) all.resize(kMostAsked);
  Probe probe = structured_session(ctx);
  const std::string required =
      "NBD_OPT_LIST_META_CONTEXT with queries lists every context matching at least one of them "
      "[S-BS-027]";
  for (const ListedContext& c : all) {
    const std::vector<std::vector<std::string>> asked = {
        {c.name}, {"x-nbdref-no-such-namespace:leaf", c.name}};
    for (const std::vector<std::string>& queries : asked) {
      const OptionReplies r =
          meta_context_request(probe, NBD_OPT_LIST_META_CONTEXT, ctx.export_name(), queries);
      const std::string shown = queries.size() == 1 ? "the query " + quoted(c.name) + " was"
                                                    : "the queries " + quoted(queries[0]) + ", " +
                                                          quoted(c.name) + " were";
      if (r.back().type != NBD_REP_ACK || !lists(contexts_of(r), c.name)) {
        return ctx.fail(quoted(c.name) + " is listed with no query, but " + shown + " answered " +
                            reply_types(r) + " without it",
                        required);
      }
    }
  }
  return ctx.pass(std::to_string(all.size()) +
                  (all.size() == 1 ? " context asked for by name" : " contexts asked for by name"));
}

// Expects `option` with `queries` to be answered with a lone NBD_REP_ACK.
Outcome expect_lone_ack(CheckContext& ctx, std::uint32_t option,
                        const std::vector<std::string>& queries, const std::string& required) {
  Probe probe = structured_session(ctx);
  const OptionReplies r = meta_context_request(probe, option, ctx.export_name(), queries);
  if (r.size() != 1 || r.back().type != NBD_REP_ACK) {
    return ctx.fail("the server answered " + reply_types(r), required);
  }
  return ctx.pass();
}

// S-BS-022, S-BS-023 (proto.md "NBD_OPT_LIST_META_CONTEXT").
Outcome list_unknown_namespace(CheckContext& ctx) {
  return expect_lone_ack(ctx, NBD_OPT_LIST_META_CONTEXT, {"x-nbdref-no-such-namespace:leaf"},
                         "a query in an unknown namespace is ignored [S-BS-022]; when nothing "
                         "matches, the reply is a lone NBD_REP_ACK [S-BS-023]");
}

// S-BS-020 (proto.md "NBD_OPT_LIST_META_CONTEXT").
Outcome list_malformed(CheckContext& ctx) {
  Probe probe = structured_session(ctx);
  std::vector<std::uint8_t> data;
  Writer w(data);
  w.be32(static_cast<std::uint32_t>(ctx.export_name().size()));
  w.string(ctx.export_name());
  w.be32(1);
  w.be32(64);  // a query length running past the option data
  w.string("base:");
  const OptionReplies r = probe.request_option(NBD_OPT_LIST_META_CONTEXT, data,
                                               "a query length of 64 with 5 bytes of query");
  if (r.back().type == NBD_REP_ERR_UNSUP) {
    return ctx.not_applicable("the server does not implement NBD_OPT_LIST_META_CONTEXT");
  }
  const std::string required =
      "a syntactically invalid NBD_OPT_LIST_META_CONTEXT fails with NBD_REP_ERR_INVALID and the "
      "session goes on [S-BS-020]";
  if (r.size() != 1 || r.back().type != NBD_REP_ERR_INVALID) {
    return ctx.fail("the server answered " + reply_types(r), required);
  }
  expect_in_step(ctx, probe);
  return ctx.pass();
}

// S-BS-037, X-S-023 (proto.md "NBD_OPT_SET_META_CONTEXT"; the
// extended-headers text, same option).
Outcome set_base_allocation(CheckContext& ctx) {
  Probe probe = structured_session(ctx);
  const OptionReplies r = meta_context_request(probe, NBD_OPT_SET_META_CONTEXT, ctx.export_name(),
                                               {std::string(kBaseAllocation)});
  const std::string required =
      "NBD_OPT_SET_META_CONTEXT is answered with one NBD_REP_META_CONTEXT per selected context, "
      "ids unique, then NBD_REP_ACK [S-BS-037], never NBD_REP_ERR_EXT_HEADER_REQD for base: "
      "contexts [X-S-023]";
  if (r.back().type != NBD_REP_ACK)
    return ctx.fail("the server answered " + reply_types(r), required);
  for (std::size_t i = 0; i + 1 < r.size(); ++i) {
    if (r[i].type != NBD_REP_META_CONTEXT) {
      return ctx.fail("reply " + std::to_string(i + 1) + " is " + r[i].describe(), required);
    }
  }
  std::map<std::uint32_t, std::string> ids;  // id -> the context it was given to
  for (const ListedContext& c : contexts_of(r)) {
    const auto [given, fresh] = ids.emplace(c.id, c.name);
    if (!fresh) {
      return ctx.fail("context id " + std::to_string(c.id) + " was given twice in one reply: to " +
                          quoted(given->second) + ", then to " + quoted(c.name),
                      required);
    }
  }
  return ctx.pass(ids.empty() ? "no context selected" : "");
}

// S-BS-012, S-BS-010 (proto.md "The base: metadata namespace", "Metadata
// querying").
Outcome set_empty_leaf(CheckContext& ctx) {
  return expect_lone_ack(ctx, NBD_OPT_SET_META_CONTEXT, {"base:"},
                         "the query \"base:\" selects nothing in NBD_OPT_SET_META_CONTEXT: a lone "
                         "NBD_REP_ACK [S-BS-012, S-BS-010]");
}

// S-BS-014 (proto.md "The base: metadata namespace").
Outcome set_unknown_leaf(CheckContext& ctx) {
  return expect_lone_ack(ctx, NBD_OPT_SET_META_CONTEXT, {"base:nbdref-no-such-leaf"},
                         "an unknown leaf in base: is ignored, not an error [S-BS-014]");
}

// S-BS-035 (proto.md "NBD_OPT_SET_META_CONTEXT").
Outcome set_zero_queries(CheckContext& ctx) {
  return expect_lone_ack(ctx, NBD_OPT_SET_META_CONTEXT, {},
                         "NBD_OPT_SET_META_CONTEXT with no query selects nothing: a lone "
                         "NBD_REP_ACK [S-BS-035]");
}

// S-BS-034, X-S-021 (proto.md "NBD_OPT_SET_META_CONTEXT"; the
// extended-headers text, same option).
Outcome set_before_structured_replies(CheckContext& ctx) {
  {
    // Only a server that implements the option can be expected to refuse
    // it for this reason.
    Probe probe = structured_session(ctx);
    meta_context_request(probe, NBD_OPT_SET_META_CONTEXT, ctx.export_name(),
                         {std::string(kBaseAllocation)});
  }
  Probe probe = ctx.connect_newstyle();
  const OptionReplies r = probe.request_meta_context(NBD_OPT_SET_META_CONTEXT, ctx.export_name(),
                                                     {std::string(kBaseAllocation)});
  if (r.size() != 1 ||
      (r.back().type != NBD_REP_ERR_INVALID && r.back().type != NBD_REP_ERR_EXT_HEADER_REQD)) {
    return ctx.fail(
        "without structured replies, NBD_OPT_SET_META_CONTEXT was answered " + reply_types(r),
        "NBD_OPT_SET_META_CONTEXT before structured replies is answered "
        "NBD_REP_ERR_INVALID [S-BS-034] (or NBD_REP_ERR_EXT_HEADER_REQD, X-S-021)");
  }
  return ctx.pass();
}

}  // namespace

void add_meta_context_checks(Catalogue& c) {
  const std::string area = "meta-context";
  c.add({"meta.list-all",
         area,
         {"S-BS-024", "S-BS-025"},
         Level::Must,
         "NBD_OPT_LIST_META_CONTEXT with no query lists contexts then NBD_REP_ACK or an error",
         &list_all_contexts});
  c.add({"meta.list-all-not-too-big",
         area,
         {"S-BS-026"},
         Level::ShouldNot,
         "listing every context does not fail with NBD_REP_ERR_TOO_BIG",
         &list_all_not_too_big});
  c.add({"meta.context-names",
         area,
         {"S-BS-005", "S-BS-006", "S-BS-031", "S-BS-039"},
         Level::Must,
         "listed context names are namespace:leaf, valid UTF-8 strings",
         &context_names});
  c.add({"meta.context-namespaces",
         area,
         {"S-BS-007"},
         Level::Must,
         "listed contexts are in the base, nbd-server, x-* or a registered namespace",
         &context_namespaces});
  c.add({"meta.list-ids-zero",
         area,
         {"S-BS-032"},
         Level::Should,
         "contexts listed by NBD_OPT_LIST_META_CONTEXT have id 0",
         &list_ids_zero});
  c.add({"meta.list-base-wildcard",
         area,
         {"S-BS-013", "X-S-020"},
         Level::Must,
         "the query \"base:\" lists base:allocation when the server supports it",
         &list_base_wildcard});
  c.add({"meta.list-query-matches",
         area,
         {"S-BS-027"},
         Level::Must,
         "LIST_META_CONTEXT with queries lists the contexts they name, also after a query "
         "matching nothing",
         &list_query_matches});
  c.add({"meta.list-unknown-namespace",
         area,
         {"S-BS-022", "S-BS-023"},
         Level::Must,
         "a query in an unknown namespace is ignored: a lone NBD_REP_ACK",
         &list_unknown_namespace});
  c.add({"meta.list-malformed",
         area,
         {"S-BS-020"},
         Level::Must,
         "a query length past the option data fails with NBD_REP_ERR_INVALID, session usable",
         &list_malformed});
  c.add({"meta.set-base-allocation",
         area,
         {"S-BS-037", "X-S-023"},
         Level::Must,
         "selecting base:allocation gives NBD_REP_META_CONTEXT replies with unique ids then "
         "NBD_REP_ACK",
         &set_base_allocation});
  c.add({"meta.set-empty-leaf",
         area,
         {"S-BS-012", "S-BS-010"},
         Level::Must,
         "the query \"base:\" selects nothing in NBD_OPT_SET_META_CONTEXT",
         &set_empty_leaf});
  c.add({"meta.set-unknown-leaf",
         area,
         {"S-BS-014"},
         Level::Must,
         "an unknown base: leaf is ignored without an error",
         &set_unknown_leaf});
  c.add({"meta.set-zero-queries",
         area,
         {"S-BS-035"},
         Level::Must,
         "NBD_OPT_SET_META_CONTEXT with no query is a lone NBD_REP_ACK",
         &set_zero_queries});
  c.add({"meta.set-before-structured-replies",
         area,
         {"S-BS-034", "X-S-021"},
         Level::Should,
         "NBD_OPT_SET_META_CONTEXT before structured replies is refused with NBD_REP_ERR_INVALID",
         &set_before_structured_replies});
}

}  // namespace nbdref::conform
