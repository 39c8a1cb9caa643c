// Script text to Script: lines, comments, quotes, blocks, forms and keys,
// and every error with the line and column of the token it blames.
#include "script/parser.hpp"

#include <gtest/gtest.h>

#include <string>

#include "wire/constants.hpp"

namespace nbdref::mock::script {
namespace {

// The script `text` spells, failing the test when it does not parse.
Script parsed(std::string_view text) {
  auto s = parse_script(text);
  EXPECT_TRUE(s.has_value()) << s.error().describe("script");
  return s ? *s : Script{};
}

// parse_script(text) must fail at line:column with `message`.
void expect_error(std::string_view text, std::size_t line, std::size_t column,
                  std::string_view message) {
  auto s = parse_script(text);
  ASSERT_FALSE(s.has_value()) << "accepted:\n" << text;
  EXPECT_EQ(s.error().where, (Location{line, column})) << s.error().describe("script");
  EXPECT_EQ(s.error().message, message);
}

TEST(ScriptParser, ReadsTheHeaderExample) {
  const Script s = parsed(R"(# a comment, to the end of the line
greeting newstyle flags=FIXED_NEWSTYLE|NO_ZEROES
expect option GO name="disk"
reply GO info export size=1M flags=HAS_FLAGS|SEND_FLUSH
expect request READ cookie=$c offset=0 length=512
chunk data cookie=$c flags=DONE data=zeros:512
repeat 3 {
  raw hex:00ff
}
)");
  ASSERT_EQ(s.steps.size(), 6u);
  EXPECT_EQ(s.steps[0].kind, StepKind::GreetingNewstyle);
  EXPECT_EQ(*s.steps[0].arg("flags"),
            Value::of_number(wire::NBD_FLAG_FIXED_NEWSTYLE | wire::NBD_FLAG_NO_ZEROES,
                             "FIXED_NEWSTYLE|NO_ZEROES"));
  EXPECT_EQ(s.steps[1].kind, StepKind::ExpectOption);
  EXPECT_EQ(s.steps[1].subjects, std::vector<Value>{Value::of_number(wire::NBD_OPT_GO, "GO")});
  EXPECT_EQ(*s.steps[1].arg("name"), Value::of_text("disk"));
  EXPECT_EQ(s.steps[2].kind, StepKind::ReplyInfoExport);
  EXPECT_EQ(s.steps[2].arg("size")->number, 1u << 20);
  EXPECT_EQ(s.steps[3].kind, StepKind::ExpectRequest);
  EXPECT_EQ(*s.steps[3].arg("cookie"), Value::variable("c"));
  EXPECT_EQ(s.steps[4].kind, StepKind::ChunkData);
  EXPECT_EQ(*s.steps[4].arg("cookie"), Value::variable("c"));
  EXPECT_EQ(s.steps[4].arg("data")->bytes.size(), 512u);
  EXPECT_EQ(s.steps[5].kind, StepKind::Repeat);
  EXPECT_EQ(s.steps[5].subjects, std::vector<Value>{Value::of_number(3)});
  ASSERT_EQ(s.steps[5].body.size(), 1u);
  EXPECT_EQ(s.steps[5].body[0].kind, StepKind::Raw);
  EXPECT_EQ(s.steps[5].body[0].subjects, std::vector<Value>{Value::of_bytes({0x00, 0xff})});
}

TEST(ScriptParser, EmptyTextIsAnEmptyScript) {
  EXPECT_EQ(parsed(""), Script{});
  EXPECT_EQ(parsed("\n  \n# only comments\n\t# indented\n"), Script{});
}

TEST(ScriptParser, ByteValuesOfAScriptAreCappedTogether) {
  const auto ok = parse_script("raw zeros:32M\nraw zeros:32M\n");
  ASSERT_TRUE(ok.has_value());
  const auto refused = parse_script("raw zeros:32M\nraw zeros:32M\nraw zeros:1\n");
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().where.line, 3u);
  EXPECT_EQ(refused.error().message, "the script's byte values add up to more than 64M");
}

TEST(ScriptParser, ArgumentsKeepTheOrderWritten) {
  const Script s = parsed("export-name-reply padding=0 size=4K flags=HAS_FLAGS\n");
  ASSERT_EQ(s.steps.size(), 1u);
  ASSERT_EQ(s.steps[0].args.size(), 3u);
  EXPECT_EQ(s.steps[0].args[0].key, "padding");
  EXPECT_EQ(s.steps[0].args[1].key, "size");
  EXPECT_EQ(s.steps[0].args[2].key, "flags");
}

TEST(ScriptParser, CommentsEndLinesButNotQuotedText) {
  const Script s = parsed(
      "close # bye\n"
      "expect option GO name=\"a # b\" # the name holds a #\n");
  ASSERT_EQ(s.steps.size(), 2u);
  EXPECT_EQ(s.steps[0].kind, StepKind::Close);
  EXPECT_EQ(*s.steps[1].arg("name"), Value::of_text("a # b"));
}

TEST(ScriptParser, QuotedValuesMayHoldSpacesEqualsAndEscapedQuotes) {
  const Script s = parsed(R"(reply GO error unsup message="no \"such\" export = here"
raw "a b=c"
)");
  ASSERT_EQ(s.steps.size(), 2u);
  EXPECT_EQ(*s.steps[0].arg("message"), Value::of_text("no \"such\" export = here"));
  EXPECT_EQ(s.steps[1].subjects[0].bytes, (std::vector<std::uint8_t>{'a', ' ', 'b', '=', 'c'}));
}

TEST(ScriptParser, WindowsLineEndingsAreAccepted) {
  const Script s = parsed("greeting newstyle\r\nclose\r\n");
  ASSERT_EQ(s.steps.size(), 2u);
  EXPECT_EQ(s.steps[1].kind, StepKind::Close);
}

TEST(ScriptParser, SubjectsFillThePlaceholdersInOrder) {
  const Script s = parsed(
      "reply GO error unsup\n"
      "expect option *\n"
      "reply $o ack\n"
      "pause 100ms\n");
  ASSERT_EQ(s.steps.size(), 4u);
  EXPECT_EQ(s.steps[0].kind, StepKind::ReplyError);
  EXPECT_EQ(s.steps[0].subjects,
            (std::vector<Value>{Value::of_number(wire::NBD_OPT_GO, "GO"),
                                Value::of_number(wire::NBD_REP_ERR_UNSUP, "unsup")}));
  EXPECT_EQ(s.steps[1].subjects, std::vector<Value>{Value::wildcard()});
  EXPECT_EQ(s.steps[2].subjects, std::vector<Value>{Value::variable("o")});
  EXPECT_EQ(s.steps[3].subjects, std::vector<Value>{Value::of_duration_ms(100)});
}

TEST(ScriptParser, AnOptionNamedLikeAWordOfTheFormStillMatches) {
  // INFO is both an option and the word "info": the literal words decide.
  const Script s = parsed("reply INFO info export size=1\nreply info ack\n");
  ASSERT_EQ(s.steps.size(), 2u);
  EXPECT_EQ(s.steps[0].kind, StepKind::ReplyInfoExport);
  EXPECT_EQ(s.steps[0].subjects[0].number, wire::NBD_OPT_INFO);
  EXPECT_EQ(s.steps[1].kind, StepKind::ReplyAck);
  EXPECT_EQ(s.steps[1].subjects[0].number, wire::NBD_OPT_INFO);
}

TEST(ScriptParser, StepsAndArgumentsRecordWhereTheyWereWritten) {
  const Script s = parsed("\n  reply GO ack  type=ACK\nrepeat 2 {\n\tclose\n}\n");
  ASSERT_EQ(s.steps.size(), 2u);
  EXPECT_EQ(s.steps[0].where, (Location{2, 3}));
  EXPECT_EQ(s.steps[0].args[0].where, (Location{2, 17}));
  EXPECT_EQ(s.steps[1].where, (Location{3, 1}));
  EXPECT_EQ(s.steps[1].body[0].where, (Location{4, 2}));
}

TEST(ScriptParser, BlocksNest) {
  const Script s = parsed(R"(repeat 2 {
  fragments 1 gap=2ms {
    repeat 3 {
      raw hex:00
    }
    close
  }
}
half-close
)");
  ASSERT_EQ(s.steps.size(), 2u);
  const Step& outer = s.steps[0];
  ASSERT_EQ(outer.body.size(), 1u);
  const Step& fragments = outer.body[0];
  EXPECT_EQ(fragments.kind, StepKind::Fragments);
  EXPECT_EQ(*fragments.arg("gap"), Value::of_duration_ms(2));
  ASSERT_EQ(fragments.body.size(), 2u);
  EXPECT_EQ(fragments.body[0].kind, StepKind::Repeat);
  ASSERT_EQ(fragments.body[0].body.size(), 1u);
  EXPECT_EQ(fragments.body[0].body[0].kind, StepKind::Raw);
  EXPECT_EQ(fragments.body[1].kind, StepKind::Close);
  EXPECT_EQ(s.steps[1].kind, StepKind::HalfClose);
}

TEST(ScriptParser, EmptyBlocksAreAllowed) {
  const Script s = parsed("repeat 2 {\n}\nserve {\n}\n");
  ASSERT_EQ(s.steps.size(), 2u);
  EXPECT_TRUE(s.steps[0].body.empty());
  EXPECT_TRUE(s.steps[1].body.empty());
}

TEST(ScriptParser, ServeHoldsExportsOrNothing) {
  const Script s = parsed(R"(serve extended=no {
  export name="a" size=1M
  export name="b" size=64K read-only=yes
}
)");
  ASSERT_EQ(s.steps.size(), 1u);
  EXPECT_EQ(*s.steps[0].arg("extended"), Value::of_bool(false));
  ASSERT_EQ(s.steps[0].body.size(), 2u);
  EXPECT_EQ(s.steps[0].body[1].kind, StepKind::Export);
  EXPECT_EQ(*s.steps[0].body[1].arg("read-only"), Value::of_bool(true));

  const Script bare = parsed("serve\n");
  ASSERT_EQ(bare.steps.size(), 1u);
  EXPECT_EQ(bare.steps[0].kind, StepKind::Serve);
}

TEST(ScriptParser, DescribeNamesSourceLineAndColumn) {
  auto s = parse_script("close\n  greting\n");
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().describe("script.nbd"), "script.nbd:2:3: unknown step 'greting'");
  EXPECT_EQ(s.error().describe(""), "2:3: unknown step 'greting'");
}

// ---- errors ----

TEST(ScriptParserError, UnknownStep) {
  expect_error("greeting newstyle\ngreting\n", 2, 1, "unknown step 'greting'");
}

TEST(ScriptParserError, UnknownSecondWord) {
  expect_error("greeting newstile\n", 1, 10,
               "expected newstyle or oldstyle after 'greeting', not 'newstile'");
  expect_error("reply GO acknowledge\n", 1, 10,
               "expected ack, server, info, meta-context, error or raw after 'reply GO', not "
               "'acknowledge'");
}

TEST(ScriptParserError, MissingWordAtEndOfLine) {
  expect_error("greeting\n", 1, 9, "expected newstyle or oldstyle after 'greeting'");
  expect_error("reply GO info # which?\n", 1, 14,
               "expected export, name, description, block-size or raw after 'reply GO info'");
}

TEST(ScriptParserError, MissingSubject) {
  expect_error("pause\n", 1, 6, "expected <duration> after 'pause'");
  expect_error("expect option name=\"x\"\n", 1, 15, "expected <option> after 'expect option'");
}

TEST(ScriptParserError, WordWhereArgumentsBelong) {
  expect_error("close now\n", 1, 7,
               "unexpected 'now' after 'close'; arguments are written key=value");
}

TEST(ScriptParserError, UnknownKey) {
  expect_error("reply GO ack sise=1\n", 1, 14,
               "unknown key 'sise' for 'reply <option> ack'; keys are: magic, type, length");
}

TEST(ScriptParserError, KeyForAStepWithoutKeys) {
  expect_error("close\nhalf-close now=yes\n", 2, 12,
               "unknown key 'now' for 'half-close', which takes none");
}

TEST(ScriptParserError, RepeatedKey) {
  expect_error("export-name-reply size=1 size=2\n", 1, 26, "key 'size' is given twice");
}

TEST(ScriptParserError, BadNumberIsBlamedOnTheValue) {
  expect_error("export-name-reply size=12x\n", 1, 24, "bad number '12x'");
}

TEST(ScriptParserError, BadSubjectIsBlamedOnTheSubject) {
  expect_error("reply GOO ack\n", 1, 7, "'GOO' is not a number or a known option");
  expect_error("pause 5m\n", 1, 7, "bad duration '5m'; write 250ms, 2s or 0");
}

TEST(ScriptParserError, UnterminatedQuoteIsBlamedOnTheOpeningQuote) {
  expect_error("close\nexpect option GO name=\"disk\n", 2, 23, "unterminated quote");
  expect_error("raw \"ab\\\"\n", 1, 5, "unterminated quote");
}

TEST(ScriptParserError, WildcardInASendingStep) {
  expect_error("reply * ack\n", 1, 7, "wildcards belong in expectations");
  expect_error("simple-reply cookie=*\n", 1, 21, "wildcards belong in expectations");
}

TEST(ScriptParserError, VariableWhereOnlyNumbersMayUseOne) {
  expect_error("chunk data data=$d\n", 1, 17,
               "a sending step can use a variable only for a number");
  expect_error("repeat $n {\n}\n", 1, 8, "variables belong in expectations and sending steps");
}

TEST(ScriptParserError, OddHexDigits) {
  expect_error("raw hex:abc\n", 1, 5, "odd number of hex digits in 'hex:abc'");
}

TEST(ScriptParserError, ClosingBraceWithoutBlock) {
  expect_error("close\n}\n", 2, 1, "'}' closes no block");
  expect_error("repeat 1 {\n}\n  }\n", 3, 3, "'}' closes no block");
}

TEST(ScriptParserError, BlockNeverClosedNamesItsBrace) {
  expect_error("repeat 2 {\n  close\n", 1, 10, "the block of 'repeat <count>' is never closed");
  // Of nested open blocks, the innermost is named.
  expect_error("repeat 2 {\n  fragments 8 {\n    close\n}\n", 1, 10,
               "the block of 'repeat <count>' is never closed");
  expect_error("repeat 2 {\n  fragments 8 {\n    close\n", 2, 15,
               "the block of 'fragments <count>' is never closed");
}

TEST(ScriptParserError, OpeningBraceMustEndItsStepsLine) {
  expect_error("repeat 2 { close\n}\n", 1, 10, "'{' must end the line of the step it opens");
  expect_error("serve\n{\n}\n", 2, 1, "'{' must end the line of the step it opens");
}

TEST(ScriptParserError, ClosingBraceStandsAlone) {
  expect_error("repeat 1 {\n} close\n", 2, 3, "'}' stands alone on its line");
  expect_error("repeat 1 {\n  close }\n", 2, 9, "'}' stands alone on its line");
}

TEST(ScriptParserError, BlockOnAStepThatTakesNone) {
  expect_error("close {\n}\n", 1, 7, "'close' takes no block");
}

TEST(ScriptParserError, MissingBlockForRepeatAndFragments) {
  expect_error("close\n  repeat 3\n", 2, 3, "'repeat <count>' needs a block: end its line with {");
  expect_error("fragments 1\n", 1, 1, "'fragments <count>' needs a block: end its line with {");
}

TEST(ScriptParserError, ExportOutsideServe) {
  expect_error("export name=\"a\"\n", 1, 1, "'export' belongs inside a serve block");
  expect_error("repeat 1 {\n  export\n}\n", 2, 3, "'export' belongs inside a serve block");
}

TEST(ScriptParserError, ServeHoldsOnlyExports) {
  expect_error("serve {\n  export\n  close\n}\n", 3, 3,
               "a serve block holds only export steps, not 'close'");
}

}  // namespace
}  // namespace nbdref::mock::script
