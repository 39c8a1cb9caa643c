// Option mode: the caller chooses each option (libnbd's nbd_set_opt_mode).
#include <memory>

#include <gtest/gtest.h>

#include "engine_harness.hpp"
#include "wire/option_request.hpp"

namespace nbdref::test {
namespace {

using namespace wire;
using engine::OptionKind;
using engine::OptionRequest;
using engine::Phase;

// A connection in option mode, past the automatic options.
std::unique_ptr<EngineHarness> negotiating_harness() {
  engine::ConnectionConfig c;
  c.opt_mode = true;
  auto h = std::make_unique<EngineHarness>(c);
  h->server_sends(newstyle_greeting());
  h->client_flags();
  h->option();
  h->server_sends(option_reply(NBD_OPT_EXTENDED_HEADERS, NBD_REP_ERR_UNSUP));
  h->option();
  h->server_sends(ack(NBD_OPT_STRUCTURED_REPLY));
  return h;
}

TEST(OptionMode, StopsAfterStructuredReplies) {
  auto owner = negotiating_harness();
  auto& h = *owner;
  EXPECT_EQ(h.phase(), Phase::Negotiating);
  EXPECT_TRUE(h.session().structured_replies);
  EXPECT_TRUE(h.client_silent());
}

TEST(OptionMode, ListDeliversEveryExport) {
  auto owner = negotiating_harness();
  auto& h = *owner;
  RecordingOptionListener l;
  ASSERT_TRUE(h.conn().start_option({OptionKind::List, {}, &l}));
  auto list = h.option();
  EXPECT_EQ(list.option, NBD_OPT_LIST);
  EXPECT_TRUE(list.data.empty());  // C-OPT-008
  h.server_sends(server_entry("a", "first") + server_entry("b", "") + ack(NBD_OPT_LIST));
  ASSERT_EQ(l.exports.size(), 2u);
  EXPECT_EQ(l.exports[0], (std::pair<std::string, std::string>{"a", "first"}));
  ASSERT_EQ(l.results.size(), 1u);
  EXPECT_TRUE(l.results[0]);
  EXPECT_EQ(h.phase(), Phase::Negotiating);
}

// B-GEN-003 (proto.md "Size constraints"): an endless NBD_OPT_LIST ends
// after 65536 NBD_REP_SERVER replies, each still passed on; exactly that
// many is a list like any other.
TEST(OptionMode, ListEndsAfterTooManyServerReplies) {
  constexpr std::size_t limit = 65536;
  const auto entry = server_entry("e", "");
  for (const std::size_t count : {limit, limit + 1}) {
    auto owner = negotiating_harness();
    auto& h = *owner;
    RecordingOptionListener l;
    ASSERT_TRUE(h.conn().start_option({OptionKind::List, {}, &l}));
    h.option();
    ByteVector stream;
    stream.reserve((count + 1) * entry.size());
    for (std::size_t i = 0; i < count; ++i) stream.insert(stream.end(), entry.begin(), entry.end());
    if (count == limit) stream = stream + ack(NBD_OPT_LIST);
    h.server_sends(stream);
    EXPECT_EQ(l.exports.size(), limit);
    ASSERT_EQ(l.results.size(), 1u);
    if (count == limit) {
      EXPECT_TRUE(l.results[0]) << h.error_message();
      EXPECT_EQ(h.phase(), Phase::Negotiating);
      continue;
    }
    ASSERT_FALSE(l.results[0]);
    EXPECT_EQ(l.results[0].error().errnum, EPROTO);
    EXPECT_EQ(h.phase(), Phase::Dead);
    const auto m = h.error_message();
    EXPECT_NE(m.find("more than 65536 NBD_REP_SERVER replies"), std::string::npos) << m;
    EXPECT_NE(m.find("[B-GEN-003]"), std::string::npos) << m;
  }
}

TEST(OptionMode, FailedGoStaysNegotiatingThenAnotherNameSucceeds) {
  auto owner = negotiating_harness();
  auto& h = *owner;
  RecordingOptionListener l;
  h.conn().config().export_name = "wrong";
  ASSERT_TRUE(h.conn().start_option({OptionKind::Go, {}, &l}));
  h.option();
  h.server_sends(option_reply(NBD_OPT_GO, NBD_REP_ERR_UNKNOWN));
  ASSERT_EQ(l.results.size(), 1u);
  ASSERT_FALSE(l.results[0]);
  EXPECT_EQ(l.results[0].error().errnum, ENOENT);
  EXPECT_EQ(h.phase(), Phase::Negotiating);
  EXPECT_TRUE(h.client_silent());  // no abort in option mode

  h.conn().config().export_name = "right";
  ASSERT_TRUE(h.conn().start_option({OptionKind::Go, {}, &l}));
  auto go = h.option();
  EXPECT_EQ(decode_info_request(go.data)->export_name, "right");
  h.server_sends(info_export(NBD_OPT_GO, 4096, NBD_FLAG_HAS_FLAGS) + ack(NBD_OPT_GO));
  ASSERT_EQ(l.results.size(), 2u);
  EXPECT_TRUE(l.results[1]);
  EXPECT_EQ(h.phase(), Phase::Ready);
}

TEST(OptionMode, InfoReportsWithoutEnteringTransmission) {
  auto owner = negotiating_harness();
  auto& h = *owner;
  RecordingOptionListener l;
  ASSERT_TRUE(h.conn().start_option({OptionKind::Info, {}, &l}));
  EXPECT_EQ(h.option().option, NBD_OPT_INFO);
  h.server_sends(info_export(NBD_OPT_INFO, 12345, NBD_FLAG_HAS_FLAGS) + ack(NBD_OPT_INFO));
  ASSERT_EQ(l.results.size(), 1u);
  EXPECT_TRUE(l.results[0]);
  EXPECT_EQ(h.session().export_info.size, 12345u);
  EXPECT_EQ(h.phase(), Phase::Negotiating);
}

// C-BS-007: contexts are reported only when the list ends in success.
TEST(OptionMode, ListMetaContextReportsOnlyAfterAck) {
  auto owner = negotiating_harness();
  auto& h = *owner;
  RecordingOptionListener l;
  ASSERT_TRUE(h.conn().start_option({OptionKind::ListMetaContext, {"base:"}, &l}));
  auto opt = h.option();
  EXPECT_EQ(opt.option, NBD_OPT_LIST_META_CONTEXT);
  h.server_sends(meta_context(NBD_OPT_LIST_META_CONTEXT, 0, "base:allocation"));
  EXPECT_TRUE(l.contexts.empty());
  h.server_sends(ack(NBD_OPT_LIST_META_CONTEXT));
  EXPECT_EQ(l.contexts, std::vector<std::string>{"base:allocation"});

  ASSERT_TRUE(h.conn().start_option({OptionKind::ListMetaContext, {"base:"}, &l}));
  h.option();
  h.server_sends(meta_context(NBD_OPT_LIST_META_CONTEXT, 0, "base:allocation") +
                 option_reply(NBD_OPT_LIST_META_CONTEXT, NBD_REP_ERR_TOO_BIG));
  EXPECT_EQ(l.contexts.size(), 1u);  // the second list was discarded
  ASSERT_EQ(l.results.size(), 2u);
  EXPECT_FALSE(l.results[1]);
}

// S-BS-027 (proto.md "NBD_OPT_LIST_META_CONTEXT"): with queries, a LIST
// names only contexts matching one; a context in a namespace no query named
// kills the connection and nothing is reported.
TEST(OptionMode, ListMetaContextOutsideTheQueriedNamespacesKills) {
  auto owner = negotiating_harness();
  auto& h = *owner;
  RecordingOptionListener l;
  ASSERT_TRUE(h.conn().start_option({OptionKind::ListMetaContext, {"base:"}, &l}));
  h.option();
  h.server_sends(meta_context(NBD_OPT_LIST_META_CONTEXT, 0, "base:allocation") +
                 meta_context(NBD_OPT_LIST_META_CONTEXT, 0, "qemu:dirty-bitmap:b"));
  EXPECT_EQ(h.phase(), Phase::Dead);
  ASSERT_EQ(l.results.size(), 1u);
  ASSERT_FALSE(l.results[0]);
  EXPECT_EQ(l.results[0].error().errnum, EPROTO);
  const auto m = h.error_message();
  EXPECT_NE(m.find("'qemu:dirty-bitmap:b'"), std::string::npos) << m;
  EXPECT_NE(m.find("'base:'"), std::string::npos) << m;
  EXPECT_NE(m.find("[S-BS-027]"), std::string::npos) << m;
  EXPECT_TRUE(l.contexts.empty());
}

// S-BS-025: a LIST without queries names every context, in any namespace.
TEST(OptionMode, ListMetaContextWithoutQueriesAcceptsAnyNamespace) {
  auto owner = negotiating_harness();
  auto& h = *owner;
  RecordingOptionListener l;
  ASSERT_TRUE(h.conn().start_option({OptionKind::ListMetaContext, {}, &l}));
  EXPECT_TRUE(decode_meta_context_request(h.option().data)->queries.empty());
  h.server_sends(meta_context(NBD_OPT_LIST_META_CONTEXT, 0, "base:allocation") +
                 meta_context(NBD_OPT_LIST_META_CONTEXT, 0, "x-vendor:") +
                 ack(NBD_OPT_LIST_META_CONTEXT));
  ASSERT_EQ(l.results.size(), 1u);
  EXPECT_TRUE(l.results[0]) << h.error_message();
  EXPECT_EQ(l.contexts, (std::vector<std::string>{"base:allocation", "x-vendor:"}));
}

// S-BS-035 (proto.md "NBD_OPT_SET_META_CONTEXT"): a SET without queries
// selects nothing, so any context in its reply kills the connection.
TEST(OptionMode, SetMetaContextWithoutQueriesAcceptsNoContext) {
  auto owner = negotiating_harness();
  auto& h = *owner;
  RecordingOptionListener l;
  ASSERT_TRUE(h.conn().start_option({OptionKind::SetMetaContext, {}, &l}));
  EXPECT_TRUE(decode_meta_context_request(h.option().data)->queries.empty());
  h.server_sends(meta_context(NBD_OPT_SET_META_CONTEXT, 1, "base:allocation"));
  EXPECT_EQ(h.phase(), Phase::Dead);
  ASSERT_EQ(l.results.size(), 1u);
  EXPECT_EQ(l.results[0].error().errnum, EPROTO);
  EXPECT_NE(h.error_message().find("[S-BS-035]"), std::string::npos) << h.error_message();
}

// C-BS-006: queries need a namespace and a colon.
TEST(OptionMode, QueryWithoutNamespaceIsRefusedLocally) {
  auto owner = negotiating_harness();
  auto& h = *owner;
  RecordingOptionListener l;
  ASSERT_TRUE(h.conn().start_option({OptionKind::ListMetaContext, {"allocation"}, &l}));
  ASSERT_EQ(l.results.size(), 1u);
  EXPECT_EQ(l.results[0].error().errnum, EINVAL);
  EXPECT_TRUE(h.client_silent());
  EXPECT_EQ(h.phase(), Phase::Negotiating);
}

TEST(OptionMode, AbortClosesOnAckOrEof) {
  for (bool server_acks : {true, false}) {
    auto owner = negotiating_harness();
    auto& h = *owner;
    RecordingOptionListener l;
    ASSERT_TRUE(h.conn().start_option({OptionKind::Abort, {}, &l}));
    EXPECT_EQ(h.option().option, NBD_OPT_ABORT);
    if (server_acks) {
      h.server_sends(ack(NBD_OPT_ABORT));
    } else {
      h.server_closes();  // C-OPT-007
    }
    EXPECT_EQ(h.phase(), Phase::Closed);
    ASSERT_EQ(l.results.size(), 1u);
    EXPECT_TRUE(l.results[0]);
  }
}

// C-BS-010: contexts count only for the export they were set for.
TEST(OptionMode, ContextsSetForAnotherExportAreDropped) {
  auto owner = negotiating_harness();
  auto& h = *owner;
  RecordingOptionListener l;
  h.conn().config().export_name = "one";
  ASSERT_TRUE(h.conn().start_option({OptionKind::SetMetaContext, {"base:allocation"}, &l}));
  h.option();
  h.server_sends(meta_context(NBD_OPT_SET_META_CONTEXT, 3, "base:allocation") +
                 ack(NBD_OPT_SET_META_CONTEXT));
  h.conn().config().export_name = "two";
  ASSERT_TRUE(h.conn().start_option({OptionKind::Go, {}, &l}));
  h.option();
  h.server_sends(info_export(NBD_OPT_GO, 4096, NBD_FLAG_HAS_FLAGS) + ack(NBD_OPT_GO));
  ASSERT_EQ(h.phase(), Phase::Ready);
  EXPECT_TRUE(h.session().meta_contexts.empty());
}

// C-OPT-003 (proto.md "Fixed newstyle negotiation"): NBD_OPT_INFO then
// NBD_OPT_GO for the same export and contexts select the contexts once; the
// server still holds that selection when GO comes.
TEST(OptionMode, InfoThenGoSelectsTheContextsOnce) {
  auto owner = negotiating_harness();
  auto& h = *owner;
  RecordingOptionListener l;
  h.conn().config().export_name = "disk";
  h.conn().config().meta_contexts = {"base:allocation"};
  ASSERT_TRUE(h.conn().start_option({OptionKind::Info, {}, &l}));
  EXPECT_EQ(h.option().option, NBD_OPT_SET_META_CONTEXT);
  h.server_sends(meta_context(NBD_OPT_SET_META_CONTEXT, 5, "base:allocation") +
                 ack(NBD_OPT_SET_META_CONTEXT));
  EXPECT_EQ(h.option().option, NBD_OPT_INFO);
  h.server_sends(info_export(NBD_OPT_INFO, 4096, NBD_FLAG_HAS_FLAGS) + ack(NBD_OPT_INFO));
  ASSERT_EQ(l.results.size(), 1u);
  ASSERT_TRUE(l.results[0]);

  ASSERT_TRUE(h.conn().start_option({OptionKind::Go, {}, &l}));
  auto go = h.option();
  EXPECT_EQ(go.option, NBD_OPT_GO) << "the contexts were selected a second time";
  EXPECT_EQ(decode_info_request(go.data)->export_name, "disk");
  h.server_sends(info_export(NBD_OPT_GO, 4096, NBD_FLAG_HAS_FLAGS) + ack(NBD_OPT_GO));
  ASSERT_EQ(h.phase(), Phase::Ready);
  ASSERT_EQ(h.session().meta_contexts.size(), 1u);
  EXPECT_EQ(h.session().meta_contexts[0].id, 5u);
}

// ... but another export name (C-BS-010) or another context list needs a
// selection of its own.
TEST(OptionMode, ContextsAreSelectedAgainForAnotherExportOrList) {
  auto owner = negotiating_harness();
  auto& h = *owner;
  RecordingOptionListener l;
  h.conn().config().export_name = "one";
  h.conn().config().meta_contexts = {"base:allocation"};
  ASSERT_TRUE(h.conn().start_option({OptionKind::Info, {}, &l}));
  EXPECT_EQ(h.option().option, NBD_OPT_SET_META_CONTEXT);
  h.server_sends(meta_context(NBD_OPT_SET_META_CONTEXT, 5, "base:allocation") +
                 ack(NBD_OPT_SET_META_CONTEXT));
  EXPECT_EQ(h.option().option, NBD_OPT_INFO);
  h.server_sends(info_export(NBD_OPT_INFO, 4096, NBD_FLAG_HAS_FLAGS) + ack(NBD_OPT_INFO));

  h.conn().config().meta_contexts = {"base:allocation", "qemu:dirty-bitmap:b"};
  ASSERT_TRUE(h.conn().start_option({OptionKind::Info, {}, &l}));
  auto set = h.option();
  EXPECT_EQ(set.option, NBD_OPT_SET_META_CONTEXT);
  EXPECT_EQ(decode_meta_context_request(set.data)->queries.size(), 2u);
  h.server_sends(meta_context(NBD_OPT_SET_META_CONTEXT, 6, "base:allocation") +
                 ack(NBD_OPT_SET_META_CONTEXT));
  EXPECT_EQ(h.option().option, NBD_OPT_INFO);
  h.server_sends(info_export(NBD_OPT_INFO, 4096, NBD_FLAG_HAS_FLAGS) + ack(NBD_OPT_INFO));

  h.conn().config().export_name = "two";
  ASSERT_TRUE(h.conn().start_option({OptionKind::Go, {}, &l}));
  set = h.option();
  EXPECT_EQ(set.option, NBD_OPT_SET_META_CONTEXT);
  EXPECT_EQ(decode_meta_context_request(set.data)->export_name, "two");
  h.server_sends(meta_context(NBD_OPT_SET_META_CONTEXT, 7, "base:allocation") +
                 ack(NBD_OPT_SET_META_CONTEXT));
  EXPECT_EQ(h.option().option, NBD_OPT_GO);
  h.server_sends(info_export(NBD_OPT_GO, 4096, NBD_FLAG_HAS_FLAGS) + ack(NBD_OPT_GO));
  ASSERT_EQ(h.phase(), Phase::Ready);
  ASSERT_EQ(h.session().meta_contexts.size(), 1u);
  EXPECT_EQ(h.session().meta_contexts[0].id, 7u);
}

TEST(OptionMode, DataWhileIdleIsAViolation) {
  auto owner = negotiating_harness();
  auto& h = *owner;
  h.server_sends(ack(NBD_OPT_GO));
  EXPECT_EQ(h.phase(), Phase::Dead);
  EXPECT_NE(h.error_message().find("no option was pending"), std::string::npos);
}

TEST(OptionMode, OptionsNeedTheNegotiatingPhase) {
  EngineHarness h;
  RecordingOptionListener l;
  auto r = h.conn().start_option({OptionKind::List, {}, &l});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().errnum, EINVAL);
}

}  // namespace
}  // namespace nbdref::test

namespace nbdref::test {
namespace {

// Every option request ends exactly once, also when the connection dies first.
TEST(OptionModeDeath, ListenerHearsWhenTheServerCloses) {
  auto owner = negotiating_harness();
  auto& h = *owner;
  RecordingOptionListener l;
  ASSERT_TRUE(h.conn().start_option({OptionKind::List, {}, &l}));
  h.server_sends(server_entry("a", ""));
  h.server_closes();
  EXPECT_EQ(h.phase(), Phase::Dead);
  ASSERT_EQ(l.results.size(), 1u);
  ASSERT_FALSE(l.results[0]);
  EXPECT_EQ(l.results[0].error().errnum, ECONNRESET);
  EXPECT_EQ(l.exports.size(), 1u);
}

TEST(OptionModeDeath, ListenerHearsOfAViolation) {
  auto owner = negotiating_harness();
  auto& h = *owner;
  RecordingOptionListener l;
  ASSERT_TRUE(h.conn().start_option({OptionKind::Info, {}, &l}));
  h.server_sends(ack(NBD_OPT_GO));  // an answer to another option
  ASSERT_EQ(l.results.size(), 1u);
  EXPECT_EQ(l.results[0].error().errnum, EPROTO);
}

}  // namespace
}  // namespace nbdref::test

namespace nbdref::test {
namespace {

TEST(OptionModeInfo, FailedInfoForgetsTheEarlierExport) {
  auto owner = negotiating_harness();
  auto& h = *owner;
  RecordingOptionListener l;
  ASSERT_TRUE(h.conn().start_option({OptionKind::Info, {}, &l}));
  h.option();
  h.server_sends(info_export(NBD_OPT_INFO, 4096, NBD_FLAG_HAS_FLAGS) + ack(NBD_OPT_INFO));
  ASSERT_TRUE(h.session().export_info.known);
  ASSERT_TRUE(h.conn().start_option({OptionKind::Info, {}, &l}));
  h.option();
  h.server_sends(option_reply(NBD_OPT_INFO, NBD_REP_ERR_UNKNOWN));
  EXPECT_FALSE(h.session().export_info.known);
}

}  // namespace
}  // namespace nbdref::test
