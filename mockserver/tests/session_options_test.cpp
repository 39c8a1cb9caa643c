// Option haggling, one option at a time (proto.md "Option types", "Option
// reply types", "Metadata querying"; proto-extended-headers.md
// "NBD_OPT_EXTENDED_HEADERS").
#include <gtest/gtest.h>

#include "server/meta_context.hpp"
#include "session_test_fixture.hpp"
#include "wire/option_reply.hpp"

namespace nbdref::mock::test {
namespace {

using namespace wire;

ServeConfig two_exports() {
  auto config = default_config();
  config.exports.push_back(test_export("second", 8192));
  return config;
}

// The single reply an option gets, checked to answer `option`.
OptionReply only_reply(SessionDriver& d, std::uint32_t option) {
  auto replies = d.option_replies();
  EXPECT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies.back().option, option);
  return replies.back();
}

class Options : public SessionTest {};
NBDREF_SESSION_TEST_SUITE(Options);

TEST_P(Options, AbortIsAcknowledgedEvenWithDataAndEndsTheSession) {
  auto d = make();
  d.open();
  d.send_option(NBD_OPT_ABORT, {1, 2, 3});
  EXPECT_EQ(only_reply(d, NBD_OPT_ABORT).type, NBD_REP_ACK);
  EXPECT_TRUE(d.session().finished());
  EXPECT_FALSE(d.session().client_violation());
}

TEST_P(Options, BytesAfterAbortAreAViolation) {
  auto d = make();
  d.open();
  ByteVector both;
  Writer w(both);
  encode_option_request(NBD_OPT_ABORT, {}, w);
  encode_option_request(NBD_OPT_LIST, {}, w);
  EXPECT_EQ(d.send(both), OPTION_REQUEST_HEADER_SIZE);
  EXPECT_EQ(only_reply(d, NBD_OPT_ABORT).type, NBD_REP_ACK);
  ASSERT_TRUE(d.session().client_violation());
  EXPECT_NE(d.session().client_violation()->find("C-HS-004"), std::string::npos);
}

TEST_P(Options, ListNamesEveryExportWithItsDescription) {
  auto d = make(two_exports());
  d.open();
  d.send_option(NBD_OPT_LIST);
  const auto replies = d.option_replies();
  ASSERT_EQ(replies.size(), 3u);
  auto first = decode_server_reply(replies[0].payload);
  auto second = decode_server_reply(replies[1].payload);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->name, "disk");
  EXPECT_EQ(first->description, "a test disk");
  EXPECT_EQ(second->name, "second");
  EXPECT_EQ(second->description, "");
  EXPECT_EQ(replies[2].type, NBD_REP_ACK);
}

TEST_P(Options, ListWithDataIsInvalidAndHagglingGoesOn) {
  auto d = make();
  d.open();
  d.send_option(NBD_OPT_LIST, {0, 0, 0, 0});
  EXPECT_EQ(only_reply(d, NBD_OPT_LIST).type, NBD_REP_ERR_INVALID);
  d.send_option(NBD_OPT_LIST);
  EXPECT_EQ(d.option_replies().back().type, NBD_REP_ACK);
}

TEST_P(Options, ListIsRefusedByPolicyWhenDisabled) {
  auto config = default_config();
  config.list = false;
  auto d = make(config);
  d.open();
  d.send_option(NBD_OPT_LIST);
  EXPECT_EQ(only_reply(d, NBD_OPT_LIST).type, NBD_REP_ERR_POLICY);
}

TEST_P(Options, StartTlsIsRefusedByPolicyOrAsInvalidWithData) {
  auto d = make();
  d.open();
  d.send_option(NBD_OPT_STARTTLS);
  EXPECT_EQ(only_reply(d, NBD_OPT_STARTTLS).type, NBD_REP_ERR_POLICY);
  d.send_option(NBD_OPT_STARTTLS, {1});
  EXPECT_EQ(only_reply(d, NBD_OPT_STARTTLS).type, NBD_REP_ERR_INVALID);
}

TEST_P(Options, UnknownOptionIsUnsupportedAndItsDataSkipped) {
  auto d = make();
  d.open();
  d.send_option(NBD_OPT_PEEK_EXPORT);
  EXPECT_EQ(only_reply(d, NBD_OPT_PEEK_EXPORT).type, NBD_REP_ERR_UNSUP);
  d.send_option(0x12345, ByteVector(300, 0xab));
  const auto r = only_reply(d, 0x12345);
  EXPECT_EQ(r.type, NBD_REP_ERR_UNSUP);
  EXPECT_TRUE(decode_error_reply_message(r.payload));
  d.expect_ack(NBD_OPT_STRUCTURED_REPLY);
}

TEST_P(Options, InfoReportsTheExportAndEachRequestedItemOnce) {
  auto d = make();
  d.open();
  d.send_option(NBD_OPT_INFO, info_request("disk", {NBD_INFO_NAME, NBD_INFO_DESCRIPTION,
                                                    NBD_INFO_BLOCK_SIZE, NBD_INFO_NAME, 77}));
  const auto replies = d.option_replies();
  ASSERT_EQ(replies.size(), 5u);
  std::vector<InfoReply> infos;
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(replies[i].type, NBD_REP_INFO);
    auto info = decode_info_reply(replies[i].payload);
    ASSERT_TRUE(info) << info.error().to_string();
    infos.push_back(*info);
  }
  const auto& e = std::get<InfoExport>(infos[0]);
  EXPECT_EQ(e.export_size, 1u << 20);
  EXPECT_EQ(e.transmission_flags & NBD_FLAG_SEND_DF, 0);
  EXPECT_EQ(std::get<InfoName>(infos[1]).name, "disk");
  EXPECT_EQ(std::get<InfoDescription>(infos[2]).description, "a test disk");
  const auto& b = std::get<InfoBlockSize>(infos[3]);
  EXPECT_EQ(b.minimum, 1u);
  EXPECT_EQ(b.preferred, 4096u);
  EXPECT_EQ(b.maximum, 32u << 20);
  EXPECT_EQ(replies[4].type, NBD_REP_ACK);
  EXPECT_EQ(d.session().phase(), SessionPhase::Options);
}

TEST_P(Options, InfoWithoutRequestsSendsOnlyTheExport) {
  auto d = make();
  d.open();
  d.send_option(NBD_OPT_INFO, info_request("disk"));
  const auto replies = d.option_replies();
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[0].payload.size(), 12u);  // S-OPT-023
  EXPECT_EQ(replies[1].type, NBD_REP_ACK);
}

TEST_P(Options, NonDefaultBlockSizesGoOutUnasked) {
  auto config = default_config();
  config.exports[0].config.minimum_block = 512;
  config.exports[0].config.maximum_payload = 1 << 20;
  auto d = make(config);
  d.open();
  d.send_option(NBD_OPT_INFO, info_request("disk"));
  const auto replies = d.option_replies();
  ASSERT_EQ(replies.size(), 3u);
  auto info = decode_info_reply(replies[1].payload);
  ASSERT_TRUE(info);
  const auto& b = std::get<InfoBlockSize>(*info);
  EXPECT_EQ(b.minimum, 512u);
  EXPECT_EQ(b.preferred, 4096u);
  EXPECT_EQ(b.maximum, 1u << 20);
}

TEST_P(Options, InfoOnAnUnknownExportIsUnknownWithoutInformation) {
  auto d = make();
  d.open();
  d.send_option(NBD_OPT_INFO, info_request("nosuch", {NBD_INFO_NAME}));
  const auto r = only_reply(d, NBD_OPT_INFO);
  EXPECT_EQ(r.type, NBD_REP_ERR_UNKNOWN);
  EXPECT_NE(r.text().find("nosuch"), std::string::npos);
}

TEST_P(Options, InfoWithInconsistentLengthsIsInvalid) {
  auto d = make();
  d.open();
  auto data = info_request("disk", {NBD_INFO_NAME});
  data[3] = 200;  // the name length now runs past the data
  d.send_option(NBD_OPT_INFO, data);
  const auto r = only_reply(d, NBD_OPT_INFO);
  EXPECT_EQ(r.type, NBD_REP_ERR_INVALID);
  EXPECT_NE(r.text().find("C-OPT-010"), std::string::npos);
}

TEST_P(Options, TheEmptyNameIsTheDefaultExport) {
  auto d = make(two_exports());
  d.open();
  d.send_option(NBD_OPT_INFO, info_request("", {NBD_INFO_NAME}));
  const auto replies = d.option_replies();
  ASSERT_EQ(replies.size(), 3u);
  auto name = decode_info_reply(replies[1].payload);
  ASSERT_TRUE(name);
  EXPECT_EQ(std::get<InfoName>(*name).name, "disk");
}

TEST_P(Options, GoRepeatsWhatInfoSaidThenEntersTransmission) {
  auto d = make();
  d.open();
  d.expect_ack(NBD_OPT_STRUCTURED_REPLY);
  const auto data = info_request("disk", {NBD_INFO_BLOCK_SIZE});
  d.send_option(NBD_OPT_INFO, data);
  auto info = d.option_replies();
  d.send_option(NBD_OPT_GO, data);
  auto go = d.option_replies();
  ASSERT_EQ(info.size(), go.size());
  for (std::size_t i = 0; i < info.size(); ++i) {
    EXPECT_EQ(info[i].type, go[i].type);
    EXPECT_EQ(info[i].payload, go[i].payload);  // S-OPT-017
    EXPECT_EQ(go[i].option, NBD_OPT_GO);
  }
  EXPECT_EQ(d.session().phase(), SessionPhase::Transmission);
  EXPECT_TRUE(d.server_silent());  // S-OPT-019: no padding after the ACK
}

TEST_P(Options, InfoAndGoAreUnsupportedWhenDisabled) {
  auto config = default_config();
  config.info_and_go = false;
  config.extended_headers = false;
  auto d = make(config);
  d.open();
  d.send_option(NBD_OPT_GO, info_request("disk"));
  EXPECT_EQ(only_reply(d, NBD_OPT_GO).type, NBD_REP_ERR_UNSUP);
  EXPECT_EQ(d.session().phase(), SessionPhase::Options);
}

TEST_P(Options, StructuredRepliesAreAcknowledgedButNotWithData) {
  auto d = make();
  d.open();
  d.send_option(NBD_OPT_STRUCTURED_REPLY, {0});
  EXPECT_EQ(only_reply(d, NBD_OPT_STRUCTURED_REPLY).type, NBD_REP_ERR_INVALID);
  EXPECT_FALSE(d.session().negotiation().structured_replies);
  d.expect_ack(NBD_OPT_STRUCTURED_REPLY);
  EXPECT_TRUE(d.session().negotiation().structured_replies);
}

TEST_P(Options, FeaturesTheServerLacksAreUnsupported) {
  auto config = default_config();
  config.structured_replies = false;
  config.extended_headers = false;
  config.meta_contexts = false;
  auto d = make(config);
  d.open();
  for (auto option : {NBD_OPT_STRUCTURED_REPLY, NBD_OPT_EXTENDED_HEADERS, NBD_OPT_LIST_META_CONTEXT,
                      NBD_OPT_SET_META_CONTEXT}) {
    d.send_option(option);
    EXPECT_EQ(only_reply(d, option).type, NBD_REP_ERR_UNSUP) << describe_option(option);
  }
}

TEST_P(Options, ExtendedHeadersTakePrecedenceOverStructuredReplies) {
  auto d = make();
  d.open();
  d.expect_ack(NBD_OPT_STRUCTURED_REPLY);
  d.send_option(NBD_OPT_EXTENDED_HEADERS, {1});
  EXPECT_EQ(only_reply(d, NBD_OPT_EXTENDED_HEADERS).type, NBD_REP_ERR_INVALID);
  d.expect_ack(NBD_OPT_EXTENDED_HEADERS);
  d.send_option(NBD_OPT_STRUCTURED_REPLY);
  EXPECT_EQ(only_reply(d, NBD_OPT_STRUCTURED_REPLY).type, NBD_REP_ERR_EXT_HEADER_REQD);
}

TEST_P(Options, ExportNameAfterExtendedHeadersIsAViolation) {
  auto d = make();
  d.open();
  d.expect_ack(NBD_OPT_EXTENDED_HEADERS);
  d.send_option(NBD_OPT_EXPORT_NAME, {'d', 'i', 's', 'k'});
  EXPECT_TRUE(d.session().finished());
  ASSERT_TRUE(d.session().client_violation());
  EXPECT_NE(d.session().client_violation()->find("X-C-006"), std::string::npos);
  EXPECT_TRUE(d.server_silent());
}

TEST_P(Options, ListMetaContextMatchesWildcardsAndIgnoresUnknownNamespaces) {
  auto d = make();
  d.open();
  d.expect_ack(NBD_OPT_STRUCTURED_REPLY);
  for (const auto& queries : std::vector<std::vector<std::string_view>>{
           {}, {"base:"}, {"base:allocation", "base:allocation"}}) {
    d.send_option(NBD_OPT_LIST_META_CONTEXT, meta_request("disk", queries));
    const auto replies = d.option_replies();
    ASSERT_EQ(replies.size(), 2u);
    auto m = decode_meta_context_reply(replies[0].payload);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->name, "base:allocation");
    EXPECT_EQ(m->context_id, 0u);  // S-BS-032
    EXPECT_EQ(replies[1].type, NBD_REP_ACK);
  }
  d.send_option(NBD_OPT_LIST_META_CONTEXT, meta_request("disk", {"x-other:thing", "base:dirty"}));
  EXPECT_EQ(only_reply(d, NBD_OPT_LIST_META_CONTEXT).type, NBD_REP_ACK);  // S-BS-023
}

TEST_P(Options, SetMetaContextSelectsAllocationButNotTheWildcard) {
  auto d = make();
  d.open();
  d.expect_ack(NBD_OPT_STRUCTURED_REPLY);
  d.send_option(NBD_OPT_SET_META_CONTEXT, meta_request("disk", {"base:"}));
  EXPECT_EQ(only_reply(d, NBD_OPT_SET_META_CONTEXT).type, NBD_REP_ACK);  // S-BS-012
  EXPECT_FALSE(d.session().negotiation().allocation_selected);
  d.send_option(NBD_OPT_SET_META_CONTEXT, meta_request("disk", {"qemu:dirty", "base:allocation"}));
  const auto replies = d.option_replies();
  ASSERT_EQ(replies.size(), 2u);
  auto m = decode_meta_context_reply(replies[0].payload);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->name, "base:allocation");
  EXPECT_EQ(m->context_id, BASE_ALLOCATION_ID);
  EXPECT_TRUE(d.session().negotiation().allocation_selected);
}

TEST_P(Options, SetMetaContextBeforeStructuredRepliesIsInvalid) {
  auto d = make();
  d.open();
  d.send_option(NBD_OPT_SET_META_CONTEXT, meta_request("disk", {"base:allocation"}));
  const auto r = only_reply(d, NBD_OPT_SET_META_CONTEXT);
  EXPECT_EQ(r.type, NBD_REP_ERR_INVALID);
  EXPECT_NE(r.text().find("C-BS-009"), std::string::npos);
}

TEST_P(Options, MetaContextRequestsThatDoNotParseAreInvalid) {
  auto d = make();
  d.open();
  d.expect_ack(NBD_OPT_STRUCTURED_REPLY);
  auto data = meta_request("disk", {"base:allocation"});
  data[11] = 9;  // two more queries than the data holds
  d.send_option(NBD_OPT_LIST_META_CONTEXT, data);
  EXPECT_EQ(only_reply(d, NBD_OPT_LIST_META_CONTEXT).type, NBD_REP_ERR_INVALID);  // S-BS-020
  d.send_option(NBD_OPT_SET_META_CONTEXT, meta_request("disk", {"allocation"}));
  const auto r = only_reply(d, NBD_OPT_SET_META_CONTEXT);
  EXPECT_EQ(r.type, NBD_REP_ERR_INVALID);
  EXPECT_NE(r.text().find("C-BS-011"), std::string::npos);
}

TEST_P(Options, MetaContextsOfAnUnknownExportAreUnknown) {
  auto d = make();
  d.open();
  d.expect_ack(NBD_OPT_STRUCTURED_REPLY);
  d.send_option(NBD_OPT_SET_META_CONTEXT, meta_request("nosuch", {"base:allocation"}));
  EXPECT_EQ(only_reply(d, NBD_OPT_SET_META_CONTEXT).type, NBD_REP_ERR_UNKNOWN);
}

TEST_P(Options, AFailedSetClearsTheSelection) {
  auto d = make();
  d.open();
  d.expect_ack(NBD_OPT_STRUCTURED_REPLY);
  d.send_option(NBD_OPT_SET_META_CONTEXT, meta_request("disk", {"base:allocation"}));
  EXPECT_EQ(d.option_replies().size(), 2u);
  d.send_option(NBD_OPT_SET_META_CONTEXT, meta_request("disk", {"nocolon"}));
  EXPECT_EQ(only_reply(d, NBD_OPT_SET_META_CONTEXT).type, NBD_REP_ERR_INVALID);
  EXPECT_FALSE(d.session().negotiation().allocation_selected);  // S-BS-033
}

TEST_P(Options, ContextsSetForAnotherExportAreNotServed) {
  auto d = make(two_exports());
  d.open();
  d.expect_ack(NBD_OPT_STRUCTURED_REPLY);
  d.send_option(NBD_OPT_SET_META_CONTEXT, meta_request("second", {"base:allocation"}));
  EXPECT_EQ(d.option_replies().size(), 2u);
  d.send_option(NBD_OPT_GO, info_request("disk"));
  EXPECT_EQ(d.option_replies().back().type, NBD_REP_ACK);
  d.send_request(request(NBD_CMD_BLOCK_STATUS, 0, 4096));
  const auto r = d.reply();
  EXPECT_EQ(r.error_value(), NBD_EINVAL);  // S-BS-003
  EXPECT_NE(r.error_message().find("C-BS-002"), std::string::npos);
}

}  // namespace
}  // namespace nbdref::mock::test
