// Option mode (nbd_set_opt_mode(3)): connecting stops at the negotiating
// state and the caller runs each option -- nbd_opt_list, _info, _go, _abort,
// _list_meta_context, _set_meta_context, _structured_reply,
// _extended_headers -- synchronously or with nbd_aio_opt_* and nbd_poll.
#include <algorithm>
#include <map>
#include <set>

#include "capi_fixture.hpp"
#include "support/qemu_nbd_server.hpp"

namespace nbdref::test {
namespace {

constexpr int64_t kSize = int64_t{1} << 20;

// nbdkit advertising exports a, b and c, each with a description, and
// refusing any other name (nbdkit-exportname-filter(1)).
const NbdkitCommand kThreeExports{
    {"--filter=exportname"},
    "memory",
    {"1M", "exportname-list=explicit", "exportname-strict=true", "exportname=a", "exportname=b",
     "exportname=c", "exportdesc=script:echo about $name"}};

HandlePtr negotiating_handle(const NbdkitCommand& command = {}, bool structured_replies = true) {
  auto h = new_handle();
  EXPECT_EQ(nbd_set_opt_mode(h.get(), true), 0);
  EXPECT_EQ(nbd_set_request_structured_replies(h.get(), structured_replies), 0);
  EXPECT_EQ(connect_nbdkit(h.get(), command), 0) << last_error();
  EXPECT_EQ(nbd_aio_is_negotiating(h.get()), 1) << nbd_connection_state(h.get());
  return h;
}

struct Listed {
  std::map<std::string, std::string> exports;
  std::vector<std::string> contexts;
  static int on_export(void* user_data, const char* name, const char* description) {
    static_cast<Listed*>(user_data)->exports[name] = description;
    return 0;
  }
  static int on_context(void* user_data, const char* name) {
    static_cast<Listed*>(user_data)->contexts.emplace_back(name);
    return 0;
  }
  nbd_list_callback list_cb() { return {on_export, this, nullptr}; }
  nbd_context_callback context_cb() { return {on_context, this, nullptr}; }
  bool has_context(const std::string& name) const {
    return std::find(contexts.begin(), contexts.end(), name) != contexts.end();
  }
};

// Polls an nbd_aio_opt_* call to its end: back to negotiating, or on to
// ready, closed or dead.
bool finish_option(nbd_handle* h) {
  return poll_until(h, [&] { return nbd_aio_is_connecting(h) == 0; });
}

// ---- the mode itself ----

TEST(OptMode, OffByDefaultAndSettableOnlyBeforeConnecting) {
  auto h = new_handle();
  EXPECT_EQ(nbd_get_opt_mode(h.get()), 0);
  ASSERT_EQ(nbd_set_opt_mode(h.get(), true), 0);
  EXPECT_EQ(nbd_get_opt_mode(h.get()), 1);
  ASSERT_EQ(nbd_set_opt_mode(h.get(), false), 0);
  EXPECT_EQ(nbd_get_opt_mode(h.get()), 0);
  ASSERT_EQ(connect_nbdkit(h.get()), 0) << last_error();
  EXPECT_EQ(nbd_aio_is_ready(h.get()), 1);  // without option mode: straight to ready
  EXPECT_EQ(nbd_set_opt_mode(h.get(), true), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
}

TEST(OptMode, ConnectStopsNegotiatingUntilOptGo) {
  auto h = negotiating_handle();
  EXPECT_EQ(nbd_get_opt_mode(h.get()), 1);
  EXPECT_STREQ(nbd_get_protocol(h.get()), "newstyle-fixed");
  std::vector<char> buf(512);
  EXPECT_EQ(nbd_pread(h.get(), buf.data(), buf.size(), 0, 0), -1);  // no export yet
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  ASSERT_EQ(nbd_opt_go(h.get()), 0) << last_error();
  EXPECT_EQ(nbd_aio_is_ready(h.get()), 1);
  EXPECT_EQ(nbd_get_size(h.get()), kSize);
  EXPECT_EQ(nbd_pread(h.get(), buf.data(), buf.size(), 0, 0), 0) << last_error();
}

TEST(OptMode, OptionsNeedTheNegotiatingState) {
  auto created = new_handle();
  EXPECT_EQ(nbd_opt_go(created.get()), -1);
  EXPECT_EQ(nbd_get_errno(), ENOTCONN);
  EXPECT_EQ(nbd_opt_info(created.get()), -1);
  EXPECT_EQ(nbd_opt_abort(created.get()), -1);
  EXPECT_EQ(nbd_opt_structured_reply(created.get()), -1);
  EXPECT_EQ(nbd_opt_extended_headers(created.get()), -1);
  auto ready = connected_handle();
  EXPECT_EQ(nbd_opt_go(ready.get()), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_opt_info(ready.get()), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_opt_abort(ready.get()), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_opt_structured_reply(ready.get()), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_opt_extended_headers(ready.get()), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_aio_opt_abort(ready.get()), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_aio_is_ready(ready.get()), 1);
}

// Each page's HANDLE STATE: some settings may still change while
// negotiating, others only on a newly created handle.
TEST(OptMode, WhichSettingsMayChangeWhileNegotiating) {
  auto h = negotiating_handle();
  EXPECT_EQ(nbd_set_export_name(h.get(), "x"), 0) << last_error();
  EXPECT_EQ(nbd_set_full_info(h.get(), true), 0) << last_error();
  EXPECT_EQ(nbd_set_request_block_size(h.get(), false), 0) << last_error();
  EXPECT_EQ(nbd_add_meta_context(h.get(), LIBNBD_CONTEXT_BASE_ALLOCATION), 0) << last_error();
  EXPECT_EQ(nbd_clear_meta_contexts(h.get()), 0) << last_error();
  EXPECT_EQ(nbd_set_opt_mode(h.get(), false), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_set_request_structured_replies(h.get(), false), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_set_handshake_flags(h.get(), 0), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_set_tls(h.get(), LIBNBD_TLS_DISABLE), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  // Commands need the ready state; nbd_aio_in_flight a connected one.
  EXPECT_EQ(nbd_aio_in_flight(h.get()), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_aio_flush(h.get(), NBD_NULL_COMPLETION, 0), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_aio_disconnect(h.get(), 0), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_aio_is_negotiating(h.get()), 1);
}

// ---- nbd_opt_list ----

TEST(OptList, SeesEveryExportWithItsDescriptionAndCountsThem) {
  Listed listed;
  auto h = negotiating_handle(kThreeExports);
  EXPECT_EQ(nbd_opt_list(h.get(), listed.list_cb()), 3) << last_error();
  const std::map<std::string, std::string> expected{
      {"a", "about a"}, {"b", "about b"}, {"c", "about c"}};
  EXPECT_EQ(listed.exports, expected);
  EXPECT_EQ(nbd_aio_is_negotiating(h.get()), 1);
}

TEST(OptList, NullCallbackIsEfault) {
  FreeCounter freed;
  auto h = negotiating_handle();
  EXPECT_EQ(nbd_opt_list(h.get(), {nullptr, &freed, FreeCounter::on_free}), -1);
  EXPECT_EQ(nbd_get_errno(), EFAULT);
  EXPECT_EQ(freed.frees, 1);
  EXPECT_EQ(nbd_aio_is_negotiating(h.get()), 1);
}

// ---- nbd_opt_info ----

TEST(OptInfo, ReportsTheExportWhileStillNegotiating) {
  auto h = negotiating_handle({.server_args = {"-r"}});
  EXPECT_EQ(nbd_get_size(h.get()), -1);  // nothing known before the option
  ASSERT_EQ(nbd_opt_info(h.get()), 0) << last_error();
  EXPECT_EQ(nbd_aio_is_negotiating(h.get()), 1);
  EXPECT_EQ(nbd_get_size(h.get()), kSize);
  EXPECT_EQ(nbd_is_read_only(h.get()), 1);
  EXPECT_EQ(nbd_can_trim(h.get()), 0);
  ASSERT_EQ(nbd_opt_go(h.get()), 0) << last_error();
  EXPECT_EQ(nbd_get_size(h.get()), kSize);
  EXPECT_EQ(nbd_is_read_only(h.get()), 1);
}

// ---- nbd_opt_go with an export the server does not have ----

TEST(OptGo, UnknownExportFailsAndLeavesTheHandleNegotiating) {
  QemuNbdServer server(QemuNbdServer::Options{.size = 2 << 20, .export_name = "disk"});
  auto h = new_handle();
  ASSERT_EQ(nbd_set_opt_mode(h.get(), true), 0);
  ASSERT_EQ(nbd_set_export_name(h.get(), "nosuch"), 0);
  ASSERT_EQ(nbd_connect_unix(h.get(), server.endpoint().unix_path.c_str()), 0) << last_error();
  ASSERT_EQ(nbd_aio_is_negotiating(h.get()), 1);
  EXPECT_EQ(nbd_opt_info(h.get()), -1);
  EXPECT_NE(nbd_get_errno(), 0);
  EXPECT_EQ(nbd_aio_is_negotiating(h.get()), 1);
  EXPECT_EQ(nbd_opt_go(h.get()), -1);
  EXPECT_NE(nbd_get_errno(), 0);
  EXPECT_NE(nbd_get_error(), nullptr);
  EXPECT_EQ(nbd_aio_is_negotiating(h.get()), 1) << nbd_connection_state(h.get());
  // Another name may be tried.
  ASSERT_EQ(nbd_set_export_name(h.get(), "disk"), 0) << last_error();
  ASSERT_EQ(nbd_opt_go(h.get()), 0) << last_error();
  EXPECT_EQ(nbd_aio_is_ready(h.get()), 1);
  EXPECT_EQ(nbd_get_size(h.get()), int64_t{2} << 20);
}

// ---- nbd_opt_abort ----

TEST(OptAbort, ClosesTheHandle) {
  auto h = negotiating_handle();
  ASSERT_EQ(nbd_opt_abort(h.get()), 0) << last_error();
  EXPECT_EQ(nbd_aio_is_closed(h.get()), 1) << nbd_connection_state(h.get());
  EXPECT_EQ(nbd_opt_go(h.get()), -1);
  std::vector<char> buf(512);
  EXPECT_EQ(nbd_pread(h.get(), buf.data(), buf.size(), 0, 0), -1);
}

// ---- meta contexts while negotiating ----

TEST(OptListMetaContext, WithoutQueriesListsWhatTheServerHas) {
  Listed listed;
  auto h = negotiating_handle();
  ASSERT_EQ(nbd_get_nr_meta_contexts(h.get()), 0);
  const int n = nbd_opt_list_meta_context(h.get(), listed.context_cb());
  ASSERT_GE(n, 1) << last_error();
  EXPECT_EQ(static_cast<std::size_t>(n), listed.contexts.size());
  EXPECT_TRUE(listed.has_context(LIBNBD_CONTEXT_BASE_ALLOCATION));
  EXPECT_EQ(nbd_aio_is_negotiating(h.get()), 1);
}

TEST(OptListMetaContext, WithQueriesListsOnlyMatches) {
  Listed listed;
  auto h = negotiating_handle();
  ASSERT_EQ(nbd_add_meta_context(h.get(), LIBNBD_CONTEXT_BASE_ALLOCATION), 0);
  ASSERT_EQ(nbd_add_meta_context(h.get(), "x-nbdref:nothing-like-this"), 0);
  EXPECT_EQ(nbd_opt_list_meta_context(h.get(), listed.context_cb()), 1) << last_error();
  EXPECT_EQ(listed.contexts, std::vector<std::string>{LIBNBD_CONTEXT_BASE_ALLOCATION});
  // Listing selects nothing.
  ASSERT_EQ(nbd_opt_go(h.get()), 0) << last_error();
  EXPECT_EQ(nbd_can_meta_context(h.get(), "x-nbdref:nothing-like-this"), 0);
}

TEST(OptListMetaContext, NullCallbackIsEfault) {
  auto h = negotiating_handle();
  EXPECT_EQ(nbd_opt_list_meta_context(h.get(), {nullptr, nullptr, nullptr}), -1);
  EXPECT_EQ(nbd_get_errno(), EFAULT);
}

TEST(OptSetMetaContext, SelectsTheSupportedContexts) {
  Listed listed;
  auto h = negotiating_handle();
  ASSERT_EQ(nbd_add_meta_context(h.get(), LIBNBD_CONTEXT_BASE_ALLOCATION), 0);
  ASSERT_EQ(nbd_add_meta_context(h.get(), "x-nbdref:nothing-like-this"), 0);
  EXPECT_EQ(nbd_opt_set_meta_context(h.get(), listed.context_cb()), 1) << last_error();
  EXPECT_EQ(listed.contexts, std::vector<std::string>{LIBNBD_CONTEXT_BASE_ALLOCATION});
  // What was selected is visible before nbd_opt_go.
  EXPECT_EQ(nbd_can_meta_context(h.get(), LIBNBD_CONTEXT_BASE_ALLOCATION), 1) << last_error();
  EXPECT_EQ(nbd_can_meta_context(h.get(), "x-nbdref:nothing-like-this"), 0) << last_error();
  ASSERT_EQ(nbd_opt_go(h.get()), 0) << last_error();
  EXPECT_EQ(nbd_can_meta_context(h.get(), LIBNBD_CONTEXT_BASE_ALLOCATION), 1);
}

// ---- features asked for by option ----

TEST(OptStructuredReply, GrantedByNbdkit) {
  auto h = negotiating_handle({}, /*structured_replies=*/false);
  EXPECT_EQ(nbd_get_structured_replies_negotiated(h.get()), 0);
  EXPECT_EQ(nbd_opt_structured_reply(h.get()), 1) << last_error();
  EXPECT_EQ(nbd_get_structured_replies_negotiated(h.get()), 1);
  EXPECT_EQ(nbd_aio_is_negotiating(h.get()), 1);
  ASSERT_EQ(nbd_opt_go(h.get()), 0) << last_error();
  EXPECT_EQ(nbd_can_df(h.get()), 1);
}

// nbd_opt_structured_reply(3): a server may refuse a second request as
// redundant; once granted, structured replies stay negotiated.
TEST(OptStructuredReply, SecondRequestKeepsThemNegotiated) {
  auto h = negotiating_handle();
  ASSERT_EQ(nbd_get_structured_replies_negotiated(h.get()), 1);  // asked for by default
  const int again = nbd_opt_structured_reply(h.get());
  EXPECT_TRUE(again == 0 || again == 1) << again << " " << last_error();
  EXPECT_EQ(nbd_get_structured_replies_negotiated(h.get()), 1);
  EXPECT_EQ(nbd_aio_is_negotiating(h.get()), 1);
}

TEST(OptStructuredReply, DeclinedByNbdkitNoSr) {
  auto h = negotiating_handle({.server_args = {"--no-sr"}}, /*structured_replies=*/false);
  EXPECT_EQ(nbd_opt_structured_reply(h.get()), 0) << last_error();
  EXPECT_EQ(nbd_get_structured_replies_negotiated(h.get()), 0);
  EXPECT_EQ(nbd_aio_is_negotiating(h.get()), 1);
  ASSERT_EQ(nbd_opt_go(h.get()), 0) << last_error();
  EXPECT_EQ(nbd_can_df(h.get()), 0);
}

TEST(OptExtendedHeaders, DeclinedByNbdkitAndTheConnectionGoesOn) {
  auto h = negotiating_handle();
  EXPECT_EQ(nbd_opt_extended_headers(h.get()), 0) << last_error();
  EXPECT_EQ(nbd_get_extended_headers_negotiated(h.get()), 0);
  EXPECT_EQ(nbd_aio_is_negotiating(h.get()), 1);
  ASSERT_EQ(nbd_opt_go(h.get()), 0) << last_error();
  std::vector<char> buf(4096);
  EXPECT_EQ(nbd_pread(h.get(), buf.data(), buf.size(), 0, 0), 0) << last_error();
}

// ---- the asynchronous forms, driven by nbd_poll ----

TEST(AioOpt, ListCallsBackThenCompletes) {
  Listed listed;
  CompletionRecorder done;
  auto h = negotiating_handle(kThreeExports);
  ASSERT_EQ(nbd_aio_opt_list(h.get(), listed.list_cb(), done.callback()), 0) << last_error();
  EXPECT_EQ(nbd_aio_is_connecting(h.get()), 1);  // until the reply
  ASSERT_TRUE(finish_option(h.get()));
  EXPECT_EQ(done.calls, 1);
  EXPECT_EQ(done.seen_error, 0);
  EXPECT_EQ(done.frees, 1);
  EXPECT_EQ(listed.exports.size(), 3u);
  EXPECT_EQ(listed.exports["b"], "about b");
  EXPECT_EQ(nbd_aio_is_negotiating(h.get()), 1);
}

TEST(AioOpt, InfoCompletesAndTheExportIsKnown) {
  CompletionRecorder done;
  auto h = negotiating_handle(kThreeExports);
  ASSERT_EQ(nbd_set_export_name(h.get(), "a"), 0);
  ASSERT_EQ(nbd_aio_opt_info(h.get(), done.callback()), 0) << last_error();
  ASSERT_TRUE(finish_option(h.get()));
  EXPECT_EQ(done.calls, 1);
  EXPECT_EQ(done.seen_error, 0);
  EXPECT_EQ(nbd_aio_is_negotiating(h.get()), 1);
  EXPECT_EQ(nbd_get_size(h.get()), kSize);
}

TEST(AioOpt, GoCompletesAndTheHandleIsReady) {
  CompletionRecorder done;
  auto h = negotiating_handle(kThreeExports);
  ASSERT_EQ(nbd_set_export_name(h.get(), "c"), 0);
  ASSERT_EQ(nbd_aio_opt_go(h.get(), done.callback()), 0) << last_error();
  ASSERT_TRUE(finish_option(h.get()));
  EXPECT_EQ(done.calls, 1);
  EXPECT_EQ(done.seen_error, 0);
  EXPECT_EQ(nbd_aio_is_ready(h.get()), 1);
  EXPECT_EQ(nbd_get_size(h.get()), kSize);
}

TEST(AioOpt, GoToAnUnknownExportReportsTheErrorAndStaysNegotiating) {
  CompletionRecorder done;
  auto h = negotiating_handle(kThreeExports);
  ASSERT_EQ(nbd_set_export_name(h.get(), "nosuch"), 0);
  ASSERT_EQ(nbd_aio_opt_go(h.get(), done.callback()), 0) << last_error();
  ASSERT_TRUE(finish_option(h.get()));
  EXPECT_EQ(done.calls, 1);
  EXPECT_NE(done.seen_error, 0);
  EXPECT_EQ(nbd_aio_is_negotiating(h.get()), 1) << nbd_connection_state(h.get());
  ASSERT_EQ(nbd_set_export_name(h.get(), "a"), 0);
  ASSERT_EQ(nbd_opt_go(h.get()), 0) << last_error();
}

TEST(AioOpt, AbortEndsClosed) {
  auto h = negotiating_handle();
  ASSERT_EQ(nbd_aio_opt_abort(h.get()), 0) << last_error();
  ASSERT_TRUE(poll_until(h.get(), [&] { return nbd_aio_is_closed(h.get()) == 1; }))
      << nbd_connection_state(h.get());
}

TEST(AioOpt, ListMetaContextCallsBackThenCompletes) {
  Listed listed;
  CompletionRecorder done;
  auto h = negotiating_handle();
  ASSERT_EQ(nbd_aio_opt_list_meta_context(h.get(), listed.context_cb(), done.callback()), 0)
      << last_error();
  ASSERT_TRUE(finish_option(h.get()));
  EXPECT_EQ(done.calls, 1);
  EXPECT_EQ(done.seen_error, 0);
  EXPECT_TRUE(listed.has_context(LIBNBD_CONTEXT_BASE_ALLOCATION));
  EXPECT_EQ(nbd_aio_is_negotiating(h.get()), 1);
}

TEST(AioOpt, SetMetaContextCallsBackThenCompletes) {
  Listed listed;
  CompletionRecorder done;
  auto h = negotiating_handle();
  ASSERT_EQ(nbd_add_meta_context(h.get(), LIBNBD_CONTEXT_BASE_ALLOCATION), 0);
  ASSERT_EQ(nbd_aio_opt_set_meta_context(h.get(), listed.context_cb(), done.callback()), 0)
      << last_error();
  ASSERT_TRUE(finish_option(h.get()));
  EXPECT_EQ(done.calls, 1);
  EXPECT_EQ(done.seen_error, 0);
  EXPECT_EQ(listed.contexts, std::vector<std::string>{LIBNBD_CONTEXT_BASE_ALLOCATION});
  EXPECT_EQ(nbd_can_meta_context(h.get(), LIBNBD_CONTEXT_BASE_ALLOCATION), 1) << last_error();
}

TEST(AioOpt, StructuredReplyGranted) {
  CompletionRecorder done;
  auto h = negotiating_handle({}, /*structured_replies=*/false);
  ASSERT_EQ(nbd_aio_opt_structured_reply(h.get(), done.callback()), 0) << last_error();
  ASSERT_TRUE(finish_option(h.get()));
  EXPECT_EQ(done.calls, 1);
  EXPECT_EQ(done.seen_error, 0);
  EXPECT_EQ(nbd_get_structured_replies_negotiated(h.get()), 1);
  EXPECT_EQ(nbd_aio_is_negotiating(h.get()), 1);
}

TEST(AioOpt, ExtendedHeadersDeclinedIsReportedToTheCompletion) {
  CompletionRecorder done;
  auto h = negotiating_handle();
  ASSERT_EQ(nbd_aio_opt_extended_headers(h.get(), done.callback()), 0) << last_error();
  ASSERT_TRUE(finish_option(h.get()));
  EXPECT_EQ(done.calls, 1);
  EXPECT_NE(done.seen_error, 0);  // the server said no
  EXPECT_EQ(nbd_get_extended_headers_negotiated(h.get()), 0);
  EXPECT_EQ(nbd_aio_is_negotiating(h.get()), 1);
}

}  // namespace
}  // namespace nbdref::test
