// Scripts built in C++: each method adds its step, subjects are read as in
// the text form, set() picks the value kind from the key, and mistakes in
// a test's script throw std::invalid_argument at once.
#include "script/builder.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "script/vocabulary.hpp"
#include "wire/constants.hpp"

namespace nbdref::mock::script {
namespace {

std::vector<StepKind> kinds_of(const std::vector<Step>& steps) {
  std::vector<StepKind> kinds;
  for (const Step& s : steps) kinds.push_back(s.kind);
  return kinds;
}

TEST(ScriptBuilder, EachMethodAddsTheStepOfItsName) {
  ScriptBuilder b;
  b.greeting_newstyle();
  b.greeting_oldstyle();
  b.expect_client_flags();
  b.expect_option();
  b.reply_ack("GO");
  b.reply_server("LIST");
  b.reply_info_export("GO");
  b.reply_info_name("GO");
  b.reply_info_description("GO");
  b.reply_info_block_size("GO");
  b.reply_info_raw("GO");
  b.reply_meta_context("SET_META_CONTEXT");
  b.reply_error("GO", "unsup");
  b.reply_raw("GO");
  b.export_name_reply();
  b.expect_request();
  b.simple_reply();
  b.chunk_none();
  b.chunk_data();
  b.chunk_hole();
  b.chunk_block_status();
  b.chunk_block_status_ext();
  b.chunk_error();
  b.chunk_error_offset();
  b.chunk_raw();
  b.raw({});
  b.expect_eof();
  b.close();
  b.half_close();
  b.pause_ms(1);
  b.fragments(1, [](ScriptBuilder&) {});
  b.repeat(1, [](ScriptBuilder&) {});
  b.serve([](ScriptBuilder& s) { s.export_("", 1); });
  using K = StepKind;
  EXPECT_EQ(kinds_of(b.script().steps), (std::vector<StepKind>{K::GreetingNewstyle,
                                                               K::GreetingOldstyle,
                                                               K::ExpectClientFlags,
                                                               K::ExpectOption,
                                                               K::ReplyAck,
                                                               K::ReplyServer,
                                                               K::ReplyInfoExport,
                                                               K::ReplyInfoName,
                                                               K::ReplyInfoDescription,
                                                               K::ReplyInfoBlockSize,
                                                               K::ReplyInfoRaw,
                                                               K::ReplyMetaContext,
                                                               K::ReplyError,
                                                               K::ReplyRaw,
                                                               K::ExportNameReply,
                                                               K::ExpectRequest,
                                                               K::SimpleReply,
                                                               K::ChunkNone,
                                                               K::ChunkData,
                                                               K::ChunkHole,
                                                               K::ChunkBlockStatus,
                                                               K::ChunkBlockStatusExt,
                                                               K::ChunkError,
                                                               K::ChunkErrorOffset,
                                                               K::ChunkRaw,
                                                               K::Raw,
                                                               K::ExpectEof,
                                                               K::Close,
                                                               K::HalfClose,
                                                               K::Pause,
                                                               K::Fragments,
                                                               K::Repeat,
                                                               K::Serve}));
  EXPECT_EQ(kinds_of(b.script().steps.back().body), std::vector<StepKind>{K::Export});
  // Every form of the vocabulary has its method.
  EXPECT_EQ(b.script().steps.size() + 1, forms().size());
}

TEST(ScriptBuilder, SubjectsAreReadAsInTheTextForm) {
  ScriptBuilder b;
  b.reply_error("NBD_OPT_GO", "policy");
  b.expect_option();
  b.expect_request("$cmd");
  b.reply_ack("$o");
  b.expect_option("7");
  const Script s = b.build();
  EXPECT_EQ(s.steps[0].subjects,
            (std::vector<Value>{Value::of_number(wire::NBD_OPT_GO, "NBD_OPT_GO"),
                                Value::of_number(wire::NBD_REP_ERR_POLICY, "policy")}));
  EXPECT_EQ(s.steps[1].subjects, std::vector<Value>{Value::wildcard()});
  EXPECT_EQ(s.steps[2].subjects, std::vector<Value>{Value::variable("cmd")});
  EXPECT_EQ(s.steps[3].subjects, std::vector<Value>{Value::variable("o")});
  EXPECT_EQ(s.steps[4].subjects, std::vector<Value>{Value::of_number(7)});
}

TEST(ScriptBuilder, NumericSubjectsArePlainValues) {
  ScriptBuilder b;
  b.raw({0x00, 0xff});
  b.pause_ms(250);
  b.repeat(3, [](ScriptBuilder&) {});
  b.fragments(4, [](ScriptBuilder&) {});
  const Script s = b.build();
  EXPECT_EQ(s.steps[0].subjects, std::vector<Value>{Value::of_bytes({0x00, 0xff})});
  EXPECT_EQ(s.steps[1].subjects, std::vector<Value>{Value::of_duration_ms(250)});
  EXPECT_EQ(s.steps[2].subjects, std::vector<Value>{Value::of_number(3)});
  EXPECT_EQ(s.steps[3].subjects, std::vector<Value>{Value::of_number(4)});
}

TEST(ScriptBuilder, BadSubjectsThrow) {
  ScriptBuilder b;
  EXPECT_THROW(b.reply_ack("NOPE"), std::invalid_argument);
  EXPECT_THROW(b.reply_ack("*"), std::invalid_argument);  // a wildcard sends nothing
  EXPECT_THROW(b.reply_error("GO", "mystery"), std::invalid_argument);
  EXPECT_THROW(b.expect_request("$"), std::invalid_argument);
  EXPECT_TRUE(b.script().steps.empty());
}

TEST(ScriptBuilder, SetPicksTheValueKindFromTheKey) {
  ScriptBuilder b;
  b.reply_info_export("GO").set("size", 1 << 20).set("flags", "HAS_FLAGS|SEND_FLUSH");
  b.expect_request("READ").set("form", "extended").set_ms("timeout", 1500).set("data", "ab");
  b.chunk_block_status().set("extents", "4096:0,512:3");
  b.chunk_block_status_ext().set("extents", std::vector<ExtentSpec>{{1, 2}});
  b.chunk_raw().set("payload", std::vector<std::uint8_t>{1, 2});
  b.serve().set("extended", false).set("structured", "yes");
  b.expect_client_flags().set("timeout", "2s");
  const Script s = b.build();
  EXPECT_EQ(*s.steps[0].arg("size"), Value::of_number(1 << 20));
  EXPECT_EQ(*s.steps[0].arg("flags"),
            Value::of_number(wire::NBD_FLAG_HAS_FLAGS | wire::NBD_FLAG_SEND_FLUSH,
                             "HAS_FLAGS|SEND_FLUSH"));
  EXPECT_EQ(*s.steps[1].arg("form"), Value::of_word("extended"));
  EXPECT_EQ(*s.steps[1].arg("timeout"), Value::of_duration_ms(1500));
  // Bytes from text keep the quoted spelling, so printing shows the text.
  EXPECT_EQ(*s.steps[1].arg("data"), Value::of_bytes({'a', 'b'}, "\"ab\""));
  EXPECT_EQ(*s.steps[2].arg("extents"), Value::of_extents({{4096, 0}, {512, 3}}));
  EXPECT_EQ(*s.steps[3].arg("extents"), Value::of_extents({{1, 2}}));
  EXPECT_EQ(*s.steps[4].arg("payload"), Value::of_bytes({1, 2}));
  EXPECT_EQ(*s.steps[5].arg("extended"), Value::of_bool(false));
  EXPECT_EQ(*s.steps[5].arg("structured"), Value::of_bool(true));
  EXPECT_EQ(*s.steps[6].arg("timeout"), Value::of_duration_ms(2000));
}

TEST(ScriptBuilder, TextKeysTakeTheTextItself) {
  ScriptBuilder b;
  b.expect_option("GO").set("name", "$not_a_variable \"*\"");
  EXPECT_EQ(*b.script().steps[0].arg("name"), Value::of_text("$not_a_variable \"*\""));
}

TEST(ScriptBuilder, SettingAKeyAgainReplacesItsValue) {
  ScriptBuilder b;
  b.export_name_reply().set("size", 1).set("padding", 0).set("size", 2);
  const Step& step = b.script().steps[0];
  ASSERT_EQ(step.args.size(), 2u);
  EXPECT_EQ(step.args[0].key, "size");
  EXPECT_EQ(step.args[0].value, Value::of_number(2));
}

TEST(ScriptBuilder, UnknownKeysThrow) {
  ScriptBuilder b;
  EXPECT_THROW(b.reply_ack("GO").set("size", 1), std::invalid_argument);
  EXPECT_THROW(b.close().set("now", true), std::invalid_argument);
  EXPECT_THROW(b.expect_eof().any("data"), std::invalid_argument);
}

TEST(ScriptBuilder, ValuesOfTheWrongTypeThrow) {
  ScriptBuilder b;
  StepBuilder reply = b.export_name_reply();
  EXPECT_THROW(reply.set("size", true), std::invalid_argument);
  EXPECT_THROW(reply.set("size", -1), std::invalid_argument);
  EXPECT_THROW(reply.set("size", std::vector<std::uint8_t>{1}), std::invalid_argument);
  EXPECT_THROW(reply.set("size", "big"), std::invalid_argument);
  EXPECT_THROW(reply.set_ms("size", 1), std::invalid_argument);
  StepBuilder option = b.expect_option("GO");
  EXPECT_THROW(option.set("name", 5), std::invalid_argument);
  EXPECT_THROW(option.set("timeout", 5), std::invalid_argument);
  EXPECT_THROW(option.set("timeout", "5 minutes"), std::invalid_argument);
  EXPECT_THROW(b.serve().set("extended", 1), std::invalid_argument);
  EXPECT_THROW(b.expect_request().set("form", "wide"), std::invalid_argument);
  EXPECT_THROW(b.chunk_block_status().set("extents", std::vector<ExtentSpec>{}),
               std::invalid_argument);
  EXPECT_TRUE(b.script().steps[0].args.empty());
}

TEST(ScriptBuilder, ExpectationsAcceptAnyAndCapture) {
  ScriptBuilder b;
  b.expect_request("WRITE").any("data").capture("cookie", "c").capture("data", "payload");
  const Step& step = b.script().steps[0];
  EXPECT_EQ(*step.arg("cookie"), Value::variable("c"));
  EXPECT_EQ(*step.arg("data"), Value::variable("payload"));
}

TEST(ScriptBuilder, OnlyExpectationsAcceptAnyOrCapture) {
  ScriptBuilder b;
  EXPECT_THROW(b.simple_reply().any("cookie"), std::invalid_argument);
  EXPECT_THROW(b.simple_reply().capture("cookie", "c"), std::invalid_argument);
  EXPECT_THROW(b.expect_request().capture("cookie", "not a name"), std::invalid_argument);
}

TEST(ScriptBuilder, SendingStepsUseCapturedNumbers) {
  ScriptBuilder b;
  b.simple_reply().use("cookie", "c");
  EXPECT_EQ(*b.script().steps[0].arg("cookie"), Value::variable("c"));
  EXPECT_THROW(b.simple_reply().use("data", "d"), std::invalid_argument);  // not a number
  EXPECT_THROW(b.expect_request().use("cookie", "c"), std::invalid_argument);
  EXPECT_THROW(b.serve().use("extended", "e"), std::invalid_argument);
}

TEST(ScriptBuilder, BlocksHoldWhatTheirFunctionBuilt) {
  ScriptBuilder b;
  b.repeat(2, [](ScriptBuilder& r) {
    r.raw({1});
    r.fragments(1, [](ScriptBuilder& f) { f.close(); }).set_ms("gap", 3);
  });
  const Step& repeat = b.script().steps[0];
  ASSERT_EQ(kinds_of(repeat.body), (std::vector<StepKind>{StepKind::Raw, StepKind::Fragments}));
  EXPECT_EQ(*repeat.body[1].arg("gap"), Value::of_duration_ms(3));
  EXPECT_EQ(kinds_of(repeat.body[1].body), std::vector<StepKind>{StepKind::Close});
}

TEST(ScriptBuilder, ServeWithoutExportsHasNoBody) {
  ScriptBuilder b;
  b.serve();
  EXPECT_EQ(b.script().steps[0].kind, StepKind::Serve);
  EXPECT_TRUE(b.script().steps[0].body.empty());
}

TEST(ScriptBuilder, ExportsSetNameAndSize) {
  ScriptBuilder b;
  b.serve([](ScriptBuilder& s) { s.export_("disk", 4096).set("read-only", true); });
  const Step& e = b.script().steps[0].body.at(0);
  EXPECT_EQ(*e.arg("name"), Value::of_text("disk"));
  EXPECT_EQ(*e.arg("size"), Value::of_number(4096));
  EXPECT_EQ(*e.arg("read-only"), Value::of_bool(true));
}

TEST(ScriptBuilder, ServeBlocksHoldOnlyExports) {
  ScriptBuilder b;
  EXPECT_THROW(b.serve([](ScriptBuilder& s) { s.close(); }), std::invalid_argument);
  EXPECT_THROW(b.export_("disk", 1), std::invalid_argument);
  EXPECT_THROW(b.repeat(1, [](ScriptBuilder& r) { r.export_("disk", 1); }), std::invalid_argument);
  EXPECT_TRUE(b.script().steps.empty());
}

// A StepBuilder holds its step by position, so steps added after it (which
// move the steps in memory) leave it pointing at the right step.
TEST(ScriptBuilder, StepBuilderSurvivesLaterSteps) {
  ScriptBuilder b;
  StepBuilder first = b.export_name_reply();
  for (int i = 0; i < 100; ++i) b.close();
  first.set("size", 7);
  EXPECT_EQ(*b.script().steps[0].arg("size"), Value::of_number(7));
  EXPECT_EQ(b.script().steps[1].args.size(), 0u);
}

}  // namespace
}  // namespace nbdref::mock::script
