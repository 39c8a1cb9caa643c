// NBD_OPT_STARTTLS as byte exchanges (proto.md "TLS support", "Option
// types"): when the client asks for TLS, what it refuses to send in the
// clear, and how negotiation starts afresh once the handshake (run by the
// handle, simulated here by tls_established()) has succeeded.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine_test_fixture.hpp"
#include "wire/option_request.hpp"

namespace nbdref::test {
namespace {

using namespace wire;
using engine::OptionKind;
using engine::Phase;
using engine::TlsMode;

class TlsNegotiation : public EngineTest {
 protected:
  EngineHarness make_tls(TlsMode mode, bool opt_mode = false) {
    engine::ConnectionConfig c;
    c.tls = mode;
    c.opt_mode = opt_mode;
    return make(c);
  }
};
NBDREF_ENGINE_TEST_SUITE(TlsNegotiation);

ByteVector refusal(std::uint32_t option, std::uint32_t type, std::string_view message) {
  const ByteVector text(message.begin(), message.end());
  return option_reply(option, type, text);
}

// Every option the client has sent and the test has not read yet.
std::vector<std::uint32_t> remaining_options(EngineHarness& h) {
  std::vector<std::uint32_t> sent;
  while (!h.client_silent()) sent.push_back(h.option().option);
  return sent;
}

// The greeting, then STARTTLS acknowledged and the handshake reported done.
void start_tls(EngineHarness& h) {
  h.server_sends(newstyle_greeting());
  h.client_flags();
  ASSERT_EQ(h.option().option, NBD_OPT_STARTTLS);
  h.server_sends(ack(NBD_OPT_STARTTLS));
  ASSERT_TRUE(h.conn().tls_requested());
  h.conn().tls_established();
}

TEST_P(TlsNegotiation, RequireSendsStartTlsFirstWithoutData) {
  auto h = make_tls(TlsMode::Require);
  h.server_sends(newstyle_greeting());
  // C-TLS-005: fixed newstyle is agreed, so STARTTLS is possible.
  EXPECT_EQ(h.client_flags(), NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
  auto starttls = h.option();
  // C-TLS-010 (proto.md "Client-side requirements"): the very first option.
  EXPECT_EQ(starttls.option, NBD_OPT_STARTTLS);
  // C-TLS-019 (proto.md "NBD_OPT_STARTTLS"): no data.
  EXPECT_TRUE(starttls.data.empty());
  // C-TLS-020: nothing stateful (no EXTENDED_HEADERS, STRUCTURED_REPLY)
  // before the server has answered.
  EXPECT_TRUE(h.client_silent());
  EXPECT_EQ(h.phase(), Phase::Handshaking);
}

TEST_P(TlsNegotiation, AllowAlsoSendsStartTlsFirst) {
  auto h = make_tls(TlsMode::Allow);
  h.server_sends(newstyle_greeting());
  h.client_flags();
  EXPECT_EQ(h.option().option, NBD_OPT_STARTTLS);  // C-TLS-010
  EXPECT_TRUE(h.client_silent());                  // C-TLS-020
}

TEST_P(TlsNegotiation, DisableNeverSendsStartTls) {
  auto h = make_tls(TlsMode::Disable);
  h.handshake_compact(4096, RW_FLAGS);
  EXPECT_FALSE(h.session().tls_negotiated);
}

TEST_P(TlsNegotiation, AcknowledgementStopsTheClientUntilTlsIsUp) {
  auto h = make_tls(TlsMode::Require);
  h.server_sends(newstyle_greeting());
  h.client_flags();
  h.option();
  // A server may start the handshake itself right after its ACK (proto.md
  // "FORCEDTLS mode"): those bytes are TLS, not an option reply.
  const ByteVector server_hello = {0x16, 0x03, 0x03, 0x00, 0x02, 0xaa, 0xbb};
  h.server_sends(ack(NBD_OPT_STARTTLS) + server_hello);
  // C-TLS-008 (proto.md "Client-side requirements"): the upgrade starts at
  // once; the engine says nothing more in the clear and parses nothing.
  EXPECT_TRUE(h.conn().tls_requested());
  EXPECT_TRUE(h.client_silent());
  EXPECT_EQ(h.phase(), Phase::Handshaking) << h.error_message();
  EXPECT_EQ(h.conn().take_unread_input(), server_hello);
  EXPECT_TRUE(h.conn().take_unread_input().empty());
  EXPECT_FALSE(h.session().tls_negotiated);
}

TEST_P(TlsNegotiation, NegotiationRunsUnderTlsOnceEstablished) {
  auto h = make_tls(TlsMode::Require);
  start_tls(h);
  EXPECT_FALSE(h.conn().tls_requested());
  EXPECT_TRUE(h.session().tls_negotiated);
  // C-TLS-020: the stateful options come now, under TLS; C-TLS-014: the
  // export is entered with GO.
  EXPECT_EQ(h.option().option, NBD_OPT_EXTENDED_HEADERS);
  h.server_sends(option_reply(NBD_OPT_EXTENDED_HEADERS, NBD_REP_ERR_UNSUP));
  EXPECT_EQ(h.option().option, NBD_OPT_STRUCTURED_REPLY);
  h.server_sends(ack(NBD_OPT_STRUCTURED_REPLY));
  h.answer_go(1 << 20, RW_FLAGS);
  ASSERT_EQ(h.phase(), Phase::Ready) << h.error_message();
  EXPECT_TRUE(h.session().tls_negotiated);
  EXPECT_TRUE(h.session().structured_replies);
}

class StartTlsRefused : public ::testing::TestWithParam<std::uint32_t> {};
INSTANTIATE_TEST_SUITE_P(ErrorReplies, StartTlsRefused,
                         ::testing::Values(NBD_REP_ERR_POLICY, NBD_REP_ERR_UNSUP,
                                           NBD_REP_ERR_INVALID, NBD_REP_ERR_PLATFORM,
                                           NBD_REP_ERR_TLS_REQD),
                         [](const auto& p) {
                           return std::string(option_reply_name(p.param) + 12);
                         });

// libnbd's CVE-2019-14842: a refused STARTTLS must not become plaintext.
TEST_P(StartTlsRefused, UnderRequireEndsTheSessionBeforeNamingAnExport) {
  engine::ConnectionConfig c;
  c.tls = TlsMode::Require;
  EngineHarness h(c);
  h.server_sends(newstyle_greeting());
  h.client_flags();
  h.option();
  h.server_sends(refusal(NBD_OPT_STARTTLS, GetParam(), "no TLS here"));
  // C-TLS-011 (proto.md "Client-side requirements"): a TLS-only client
  // ends the session; C-TLS-018: nothing names an export or asks for data.
  EXPECT_EQ(h.phase(), Phase::Dead);
  EXPECT_EQ(h.error_errno(), ENOTSUP);
  EXPECT_NE(h.error_message().find("the server refused NBD_OPT_STARTTLS"), std::string::npos)
      << h.error_message();
  EXPECT_NE(h.error_message().find("TLS is required"), std::string::npos) << h.error_message();
  EXPECT_NE(h.error_message().find("[C-TLS-011]"), std::string::npos) << h.error_message();
  // C-HS-010: it leaves politely, with NBD_OPT_ABORT and nothing else.
  EXPECT_EQ(remaining_options(h), std::vector<std::uint32_t>{NBD_OPT_ABORT});
}

TEST_P(StartTlsRefused, UnderAllowGoesOnInPlaintext) {
  engine::ConnectionConfig c;
  c.tls = TlsMode::Allow;
  EngineHarness h(c);
  h.server_sends(newstyle_greeting());
  h.client_flags();
  h.option();
  h.server_sends(refusal(NBD_OPT_STARTTLS, GetParam(), "no TLS here"));
  // C-TLS-009: continuing without TLS is one of the two allowed answers.
  EXPECT_EQ(h.option().option, NBD_OPT_EXTENDED_HEADERS);
  h.server_sends(option_reply(NBD_OPT_EXTENDED_HEADERS, NBD_REP_ERR_UNSUP));
  EXPECT_EQ(h.option().option, NBD_OPT_STRUCTURED_REPLY);
  h.server_sends(ack(NBD_OPT_STRUCTURED_REPLY));
  h.answer_go(4096, RW_FLAGS);
  ASSERT_EQ(h.phase(), Phase::Ready) << h.error_message();
  EXPECT_FALSE(h.session().tls_negotiated);
}

TEST_P(TlsNegotiation, OldstyleServerUnderRequireIsLeftBeforeTransmission) {
  auto h = make_tls(TlsMode::Require);
  h.server_sends(oldstyle_greeting(1 << 20, NBD_FLAG_HAS_FLAGS));
  // C-TLS-018, C-TLS-004 (proto.md "Protocol downgrade attacks"): an
  // oldstyle server cannot do TLS, so the export is never used.
  EXPECT_EQ(h.phase(), Phase::Dead);
  EXPECT_EQ(h.error_errno(), ENOTSUP);
  EXPECT_NE(h.error_message().find("oldstyle"), std::string::npos) << h.error_message();
  EXPECT_NE(h.error_message().find("TLS is required"), std::string::npos) << h.error_message();
  EXPECT_TRUE(h.client_silent());
}

TEST_P(TlsNegotiation, OldstyleServerUnderAllowIsUsedInPlaintext) {
  auto h = make_tls(TlsMode::Allow);
  h.server_sends(oldstyle_greeting(1 << 20, NBD_FLAG_HAS_FLAGS));
  EXPECT_EQ(h.phase(), Phase::Ready) << h.error_message();
  EXPECT_FALSE(h.session().tls_negotiated);
}

TEST_P(TlsNegotiation, ServerWithoutFixedNewstyleUnderRequireGetsNothing) {
  auto h = make_tls(TlsMode::Require);
  h.server_sends(newstyle_greeting(NBD_FLAG_NO_ZEROES));
  // C-TLS-005: no STARTTLS without fixed newstyle; C-TLS-018: and so no
  // NBD_OPT_EXPORT_NAME in the clear either. Not even the flags go out.
  EXPECT_EQ(h.phase(), Phase::Dead);
  EXPECT_EQ(h.error_errno(), ENOTSUP);
  EXPECT_NE(h.error_message().find("does not offer fixed newstyle"), std::string::npos)
      << h.error_message();
  EXPECT_TRUE(h.client_silent());
}

TEST_P(TlsNegotiation, ClientFlagsWithoutFixedNewstyleUnderRequireSendNothing) {
  engine::ConnectionConfig c;
  c.tls = TlsMode::Require;
  c.handshake_flags = NBD_FLAG_NO_ZEROES;  // the caller left fixed newstyle out
  auto h = make(c);
  h.server_sends(newstyle_greeting());
  // C-TLS-005, C-TLS-018.
  EXPECT_EQ(h.phase(), Phase::Dead);
  EXPECT_EQ(h.error_errno(), ENOTSUP);
  EXPECT_NE(h.error_message().find("set_handshake_flags"), std::string::npos) << h.error_message();
  EXPECT_TRUE(h.client_silent());
}

TEST_P(TlsNegotiation, ServerWithoutFixedNewstyleUnderAllowGetsExportNameInPlaintext) {
  auto h = make_tls(TlsMode::Allow);
  h.server_sends(newstyle_greeting(NBD_FLAG_NO_ZEROES));
  EXPECT_EQ(h.client_flags(), NBD_FLAG_C_NO_ZEROES);
  // C-TLS-005: STARTTLS is impossible here, so it is not sent.
  EXPECT_EQ(h.option().option, NBD_OPT_EXPORT_NAME);
  h.server_sends(export_name_reply(4096, NBD_FLAG_HAS_FLAGS, false));
  EXPECT_EQ(h.phase(), Phase::Ready) << h.error_message();
  EXPECT_FALSE(h.session().tls_negotiated);
}

TEST_P(TlsNegotiation, ServerClosingInsteadOfTheHandshakeIsNamed) {
  auto h = make_tls(TlsMode::Require);
  h.server_sends(newstyle_greeting());
  h.client_flags();
  h.option();
  h.server_sends(ack(NBD_OPT_STARTTLS));
  h.server_closes();
  EXPECT_EQ(h.phase(), Phase::Dead);
  EXPECT_EQ(h.error_errno(), ECONNRESET);
  EXPECT_NE(h.error_message().find("TLS handshake"), std::string::npos) << h.error_message();
}

TEST_P(TlsNegotiation, TlsRequiredReplyInPlaintextSaysWhatWouldHelp) {
  auto h = make_tls(TlsMode::Disable);
  h.server_sends(newstyle_greeting());
  h.client_flags();
  h.option();
  h.server_sends(refusal(NBD_OPT_EXTENDED_HEADERS, NBD_REP_ERR_TLS_REQD, ""));
  h.option();
  h.server_sends(refusal(NBD_OPT_STRUCTURED_REPLY, NBD_REP_ERR_TLS_REQD, ""));
  h.option();
  h.server_sends(refusal(NBD_OPT_GO, NBD_REP_ERR_TLS_REQD, "TLS first"));
  // C-TLS-013: the client may give up; it says why and what would help.
  EXPECT_EQ(h.phase(), Phase::Dead);
  EXPECT_EQ(h.error_errno(), ENOTSUP);
  EXPECT_NE(h.error_message().find("NBD_REP_ERR_TLS_REQD"), std::string::npos);
  EXPECT_NE(h.error_message().find("see set_tls"), std::string::npos) << h.error_message();
}

TEST_P(TlsNegotiation, TlsRequiredReplyUnderTlsIsAViolation) {
  auto h = make_tls(TlsMode::Require);
  start_tls(h);
  EXPECT_EQ(h.option().option, NBD_OPT_EXTENDED_HEADERS);
  h.server_sends(refusal(NBD_OPT_EXTENDED_HEADERS, NBD_REP_ERR_TLS_REQD, ""));
  // S-TLS-019 (proto.md "FORCEDTLS mode"): never once TLS is up.
  EXPECT_EQ(h.phase(), Phase::Dead);
  EXPECT_EQ(h.error_errno(), EPROTO);
  EXPECT_NE(h.error_message().find("[S-TLS-019]"), std::string::npos) << h.error_message();
}

TEST_P(TlsNegotiation, HandshakeFailureEndsTheConnection) {
  auto h = make_tls(TlsMode::Require);
  h.server_sends(newstyle_greeting());
  h.client_flags();
  h.option();
  h.server_sends(ack(NBD_OPT_STARTTLS));
  // C-TLS-012, C-HS-008: the handle reports the failed handshake; the
  // connection is over, with no plaintext goodbye.
  h.conn().fail(Error{EACCES, "the TLS handshake failed"});
  EXPECT_EQ(h.phase(), Phase::Dead);
  EXPECT_EQ(h.error_errno(), EACCES);
  EXPECT_TRUE(h.client_silent());
}

// ---- option mode ----

TEST_P(TlsNegotiation, OptionModeStartsTlsBeforeHandingOver) {
  auto h = make_tls(TlsMode::Require, true);
  start_tls(h);
  EXPECT_EQ(h.option().option, NBD_OPT_EXTENDED_HEADERS);
  h.server_sends(option_reply(NBD_OPT_EXTENDED_HEADERS, NBD_REP_ERR_UNSUP));
  EXPECT_EQ(h.option().option, NBD_OPT_STRUCTURED_REPLY);
  h.server_sends(ack(NBD_OPT_STRUCTURED_REPLY));
  EXPECT_EQ(h.phase(), Phase::Negotiating);
  EXPECT_TRUE(h.session().tls_negotiated);
  EXPECT_TRUE(h.client_silent());
}

// Option mode without automatic TLS: the caller's own STARTTLS.
std::unique_ptr<EngineHarness> plaintext_negotiating(FeedMode mode, bool extended) {
  engine::ConnectionConfig c;
  c.opt_mode = true;
  c.request_extended_headers = extended;
  c.meta_contexts = {"base:allocation"};
  auto owner = std::make_unique<EngineHarness>(c, mode);
  auto& h = *owner;
  h.server_sends(newstyle_greeting());
  h.client_flags();
  if (extended) {
    EXPECT_EQ(h.option().option, NBD_OPT_EXTENDED_HEADERS);
    h.server_sends(ack(NBD_OPT_EXTENDED_HEADERS));
  } else {
    EXPECT_EQ(h.option().option, NBD_OPT_STRUCTURED_REPLY);
    h.server_sends(ack(NBD_OPT_STRUCTURED_REPLY));
  }
  RecordingOptionListener set;
  EXPECT_TRUE(h.conn().start_option({OptionKind::SetMetaContext, {}, &set}));
  EXPECT_EQ(h.option().option, NBD_OPT_SET_META_CONTEXT);
  h.server_sends(meta_context(NBD_OPT_SET_META_CONTEXT, 7, "base:allocation") +
                 ack(NBD_OPT_SET_META_CONTEXT));
  EXPECT_EQ(h.phase(), Phase::Negotiating) << h.error_message();
  EXPECT_EQ(h.session().meta_contexts.size(), 1u);
  return owner;
}

TEST_P(TlsNegotiation, StartTlsAfterStructuredRepliesNegotiatesThemAgain) {
  auto owner = plaintext_negotiating(GetParam(), false);
  auto& h = *owner;
  ASSERT_TRUE(h.session().structured_replies);
  RecordingOptionListener l;
  // C-TLS-007: STARTTLS may come after other options.
  ASSERT_TRUE(h.conn().start_option({OptionKind::StartTls, {}, &l}));
  auto starttls = h.option();
  EXPECT_EQ(starttls.option, NBD_OPT_STARTTLS);
  EXPECT_TRUE(starttls.data.empty());  // C-TLS-019
  h.server_sends(ack(NBD_OPT_STARTTLS));
  ASSERT_TRUE(h.conn().tls_requested());
  EXPECT_TRUE(l.results.empty());  // not done before the handshake is
  h.conn().tls_established();
  // C-SR-004 (proto.md "NBD_OPT_STRUCTURED_REPLY"): what plaintext agreed
  // is gone, meta contexts with it, and structured replies are asked again.
  EXPECT_FALSE(h.session().structured_replies);
  EXPECT_TRUE(h.session().meta_contexts.empty());
  EXPECT_EQ(h.option().option, NBD_OPT_STRUCTURED_REPLY);
  EXPECT_TRUE(l.results.empty());
  h.server_sends(ack(NBD_OPT_STRUCTURED_REPLY));
  ASSERT_EQ(l.results.size(), 1u);
  EXPECT_TRUE(l.results[0]);
  EXPECT_TRUE(h.session().structured_replies);
  EXPECT_TRUE(h.session().tls_negotiated);
  EXPECT_EQ(h.phase(), Phase::Negotiating);
  EXPECT_TRUE(h.client_silent());
}

TEST_P(TlsNegotiation, StartTlsAfterExtendedHeadersNegotiatesThemAgain) {
  auto owner = plaintext_negotiating(GetParam(), true);
  auto& h = *owner;
  ASSERT_TRUE(h.session().extended_headers);
  RecordingOptionListener l;
  ASSERT_TRUE(h.conn().start_option({OptionKind::StartTls, {}, &l}));
  EXPECT_EQ(h.option().option, NBD_OPT_STARTTLS);
  h.server_sends(ack(NBD_OPT_STARTTLS));
  h.conn().tls_established();
  // X-C-015 (proto-extended-headers.md "NBD_OPT_EXTENDED_HEADERS").
  EXPECT_FALSE(h.session().extended_headers);
  EXPECT_TRUE(h.session().meta_contexts.empty());
  EXPECT_EQ(h.option().option, NBD_OPT_EXTENDED_HEADERS);
  h.server_sends(ack(NBD_OPT_EXTENDED_HEADERS));
  ASSERT_EQ(l.results.size(), 1u);
  EXPECT_TRUE(l.results[0]);
  EXPECT_TRUE(h.session().extended_headers);

  // GO selects the contexts again, under TLS, before entering transmission.
  RecordingOptionListener go;
  ASSERT_TRUE(h.conn().start_option({OptionKind::Go, {}, &go}));
  EXPECT_EQ(h.option().option, NBD_OPT_SET_META_CONTEXT);
}

TEST_P(TlsNegotiation, StartTlsIsNeverSentTwice) {
  auto h = make_tls(TlsMode::Require, true);
  start_tls(h);
  h.option();
  h.server_sends(option_reply(NBD_OPT_EXTENDED_HEADERS, NBD_REP_ERR_UNSUP));
  h.option();
  h.server_sends(ack(NBD_OPT_STRUCTURED_REPLY));
  ASSERT_EQ(h.phase(), Phase::Negotiating);
  RecordingOptionListener l;
  ASSERT_TRUE(h.conn().start_option({OptionKind::StartTls, {}, &l}));
  // C-TLS-006 (proto.md "Client-side requirements").
  ASSERT_EQ(l.results.size(), 1u);
  ASSERT_FALSE(l.results[0]);
  EXPECT_EQ(l.results[0].error().errnum, EINVAL);
  EXPECT_NE(l.results[0].error().message.find("[C-TLS-006]"), std::string::npos);
  EXPECT_TRUE(h.client_silent());
  EXPECT_EQ(h.phase(), Phase::Negotiating);
  EXPECT_TRUE(h.session().tls_negotiated);
}

TEST_P(TlsNegotiation, CallersStartTlsRefusedLeavesThePlaintextSession) {
  auto owner = plaintext_negotiating(GetParam(), false);
  auto& h = *owner;
  RecordingOptionListener l;
  ASSERT_TRUE(h.conn().start_option({OptionKind::StartTls, {}, &l}));
  h.option();
  h.server_sends(refusal(NBD_OPT_STARTTLS, NBD_REP_ERR_POLICY, "no"));
  // C-TLS-009: the session goes on in plaintext; nothing is forgotten.
  ASSERT_EQ(l.results.size(), 1u);
  ASSERT_FALSE(l.results[0]);
  EXPECT_EQ(l.results[0].error().errnum, EPERM);
  EXPECT_EQ(h.phase(), Phase::Negotiating);
  EXPECT_TRUE(h.session().structured_replies);
  EXPECT_EQ(h.session().meta_contexts.size(), 1u);
  EXPECT_FALSE(h.session().tls_negotiated);
  EXPECT_TRUE(h.client_silent());
}

}  // namespace
}  // namespace nbdref::test
