// How script values are spelled: every value kind read from text, the
// errors for what is not a value, where $variables and * may stand, and
// that what format_value() writes reads back equal.
#include "script/value_syntax.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "wire/constants.hpp"

namespace nbdref::mock::script {
namespace {

const ValueSpec NUMBER{ValueType::Number, Symbols::None, {}};
const ValueSpec OPTION{ValueType::Number, Symbols::Options, {}};
const ValueSpec FLAGS{ValueType::Number, Symbols::TransmissionFlags, {}};
const ValueSpec ERROR_REPLY{ValueType::Number, Symbols::ErrorReplies, {}};
const ValueSpec TEXT{ValueType::Text, Symbols::None, {}};
const ValueSpec BYTES{ValueType::Bytes, Symbols::None, {}};
const ValueSpec DURATION{ValueType::Duration, Symbols::None, {}};
const ValueSpec EXTENTS{ValueType::Extents, Symbols::None, {}};
const ValueSpec BOOL{ValueType::Bool, Symbols::None, {}};
const ValueSpec WORD{ValueType::Word, Symbols::None, {"compact", "extended"}};

// The value `token` spells, failing the test when it spells none.
Value parsed(std::string_view token, const ValueSpec& spec, Role role = Role::Send) {
  auto v = parse_value(token, spec, role);
  EXPECT_TRUE(v.has_value()) << token << ": " << v.error();
  return v ? *v : Value{};
}

// The complaint about `token`, failing the test when there is none.
std::string complaint(std::string_view token, const ValueSpec& spec, Role role = Role::Send) {
  auto v = parse_value(token, spec, role);
  EXPECT_FALSE(v.has_value()) << token << " was accepted";
  return v ? std::string() : v.error();
}

TEST(ScriptValueSyntax, NumbersAreDecimalHexOrBinaryMultiples) {
  EXPECT_EQ(parsed("42", NUMBER), Value::of_number(42));
  EXPECT_EQ(parsed("0x2a", NUMBER), Value::of_number(42, "0x2a"));
  EXPECT_EQ(parsed("0X2A", NUMBER).number, 42u);
  EXPECT_EQ(parsed("64K", NUMBER), Value::of_number(65536, "64K"));
  EXPECT_EQ(parsed("64k", NUMBER), Value::of_number(65536, "64k"));
  EXPECT_EQ(parsed("1M", NUMBER).number, 1u << 20);
  EXPECT_EQ(parsed("2G", NUMBER).number, 2ull << 30);
  EXPECT_EQ(parsed("1T", NUMBER).number, 1ull << 40);
  EXPECT_EQ(parsed("0x10K", NUMBER).number, 16u << 10);
  EXPECT_EQ(parsed("18446744073709551615", NUMBER).number, 0xffffffffffffffffull);
}

TEST(ScriptValueSyntax, PlainDecimalKeepsNoSpelling) {
  EXPECT_TRUE(parsed("4096", NUMBER).spelling.empty());
  EXPECT_TRUE(parsed("007", NUMBER).spelling.empty());
}

TEST(ScriptValueSyntax, NumbersBeyondSixtyFourBitsAreRefused) {
  EXPECT_EQ(complaint("18446744073709551616", NUMBER),
            "number '18446744073709551616' does not fit in 64 bits");
  EXPECT_EQ(complaint("0x10000000000000000", NUMBER),
            "number '0x10000000000000000' does not fit in 64 bits");
  EXPECT_EQ(complaint("16777216T", NUMBER), "number '16777216T' does not fit in 64 bits");
}

TEST(ScriptValueSyntax, MalformedNumbersAreRefused) {
  EXPECT_EQ(complaint("12x", NUMBER), "bad number '12x'");
  EXPECT_EQ(complaint("0x", NUMBER), "bad number '0x'");
  EXPECT_EQ(complaint("1KB", NUMBER), "bad number '1KB'");
  EXPECT_EQ(complaint("disk", NUMBER), "bad number 'disk'");
  EXPECT_EQ(complaint("-1", NUMBER), "bad number '-1'");
}

TEST(ScriptValueSyntax, ProtocolNamesResolveInFullShortAnyCaseAndWithDashes) {
  EXPECT_EQ(parsed("GO", OPTION), Value::of_number(wire::NBD_OPT_GO, "GO"));
  EXPECT_EQ(parsed("NBD_OPT_GO", OPTION).number, wire::NBD_OPT_GO);
  EXPECT_EQ(parsed("go", OPTION).number, wire::NBD_OPT_GO);
  EXPECT_EQ(parsed("export-name", OPTION).number, wire::NBD_OPT_EXPORT_NAME);
  EXPECT_EQ(parsed("unsup", ERROR_REPLY).number, wire::NBD_REP_ERR_UNSUP);
  EXPECT_EQ(parsed("7", OPTION), Value::of_number(7));
}

TEST(ScriptValueSyntax, NamesAndNumbersJoinedByBarAreOredAndKeepTheirSpelling) {
  EXPECT_EQ(parsed("HAS_FLAGS|SEND_FLUSH|0x8000", FLAGS),
            Value::of_number(wire::NBD_FLAG_HAS_FLAGS | wire::NBD_FLAG_SEND_FLUSH | 0x8000,
                             "HAS_FLAGS|SEND_FLUSH|0x8000"));
  EXPECT_EQ(parsed("1|2", NUMBER), Value::of_number(3, "1|2"));
}

TEST(ScriptValueSyntax, UnknownNamesAndEmptyPartsAreRefused) {
  EXPECT_EQ(complaint("GOO", OPTION), "'GOO' is not a number or a known option");
  EXPECT_EQ(complaint("HAS_FLAGS|FLUSHH", FLAGS),
            "'FLUSHH' is not a number or a known transmission flag");
  EXPECT_EQ(complaint("HAS_FLAGS||SEND_FUA", FLAGS),
            "empty name or number in 'HAS_FLAGS||SEND_FUA'");
  EXPECT_EQ(complaint("HAS_FLAGS|", FLAGS), "empty name or number in 'HAS_FLAGS|'");
}

TEST(ScriptValueSyntax, TextIsQuotedWithEscapes) {
  EXPECT_EQ(parsed(R"("disk")", TEXT), Value::of_text("disk"));
  EXPECT_EQ(parsed(R"("")", TEXT), Value::of_text(""));
  EXPECT_EQ(parsed(R"("a b # c")", TEXT), Value::of_text("a b # c"));
  EXPECT_EQ(parsed(R"("\n\t\r\"\\\x41\xfF")", TEXT), Value::of_text("\n\t\r\"\\A\xff"));
  EXPECT_EQ(parsed(R"("a\0b")", TEXT), Value::of_text(std::string("a\0b", 3)));
}

TEST(ScriptValueSyntax, MalformedTextIsRefused) {
  EXPECT_EQ(complaint(R"("disk)", TEXT), "unterminated quote");
  EXPECT_EQ(complaint(R"("disk\")", TEXT), "unterminated quote");
  EXPECT_EQ(complaint(R"(disk)", TEXT), "text is written in double quotes, not 'disk'");
  EXPECT_EQ(complaint(R"("a"b)", TEXT), "unexpected text after the closing quote");
  EXPECT_EQ(complaint(R"("\q")", TEXT), "unknown escape \\q");
  EXPECT_EQ(complaint(R"("\x4")", TEXT), "\\x takes two hex digits");
  EXPECT_EQ(complaint(R"("\xg0")", TEXT), "\\x takes two hex digits");
}

TEST(ScriptValueSyntax, BytesAreHexQuotedTextOrZeros) {
  EXPECT_EQ(parsed("hex:0011aA", BYTES), Value::of_bytes({0x00, 0x11, 0xaa}));
  EXPECT_EQ(parsed("hex:", BYTES), Value::of_bytes({}));
  EXPECT_EQ(parsed(R"("ab\n")", BYTES), Value::of_bytes({'a', 'b', '\n'}, R"("ab\n")"));
  EXPECT_EQ(parsed("zeros:4K", BYTES),
            Value::of_bytes(std::vector<std::uint8_t>(4096), "zeros:4K"));
  EXPECT_EQ(parsed("zeros:0", BYTES), Value::of_bytes({}, "zeros:0"));
}

TEST(ScriptValueSyntax, MalformedBytesAreRefused) {
  EXPECT_EQ(complaint("hex:abc", BYTES), "odd number of hex digits in 'hex:abc'");
  EXPECT_EQ(complaint("hex:zz", BYTES), "bad hex digit in 'hex:zz'");
  EXPECT_EQ(complaint("00ff", BYTES),
            "bytes are written hex:00ff, \"text\", zeros:N or repeat:N:BYTES, not '00ff'");
  EXPECT_EQ(complaint("zeros:lots", BYTES), "bad number 'lots'");
  EXPECT_EQ(complaint(R"("ab)", BYTES), "unterminated quote");
}

TEST(ScriptValueSyntax, RepeatedBytesAreExpandedAndKeepTheirSpelling) {
  EXPECT_EQ(parsed("repeat:3:hex:00ff", BYTES),
            Value::of_bytes({0, 0xff, 0, 0xff, 0, 0xff}, "repeat:3:hex:00ff"));
  EXPECT_EQ(parsed(R"(repeat:2:"ab")", BYTES),
            Value::of_bytes({'a', 'b', 'a', 'b'}, R"(repeat:2:"ab")"));
  EXPECT_EQ(parsed("repeat:0:hex:01", BYTES), Value::of_bytes({}, "repeat:0:hex:01"));
  EXPECT_EQ(format_value(parsed("repeat:1M:hex:0000020000000000", BYTES)),
            "repeat:1M:hex:0000020000000000");
}

TEST(ScriptValueSyntax, MalformedRepeatedBytesAreRefused) {
  EXPECT_EQ(complaint("repeat:3", BYTES),
            "repeated bytes are written repeat:N:BYTES, not 'repeat:3'");
  EXPECT_EQ(complaint("repeat:x:hex:00", BYTES), "bad number 'x'");
  EXPECT_EQ(complaint("repeat:2:hex:", BYTES), "'repeat:2:hex:' repeats no bytes");
  EXPECT_EQ(complaint("repeat:32M:hex:000000", BYTES), "'repeat:32M:hex:000000' is more than 64M");
}

TEST(ScriptValueSyntax, ZerosAreCappedAt64Mebibytes) {
  EXPECT_EQ(parsed("zeros:64M", BYTES).bytes.size(), std::size_t{64} << 20);
  EXPECT_EQ(complaint("zeros:0x4000001", BYTES), "'zeros:0x4000001' is more than zeros:64M");
  EXPECT_EQ(complaint("zeros:2G", BYTES), "'zeros:2G' is more than zeros:64M");
}

TEST(ScriptValueSyntax, DurationsAreMillisecondsSecondsOrZero) {
  EXPECT_EQ(parsed("250ms", DURATION, Role::Control), Value::of_duration_ms(250));
  EXPECT_EQ(parsed("2s", DURATION, Role::Control), Value::of_duration_ms(2000));
  EXPECT_EQ(parsed("0", DURATION, Role::Control), Value::of_duration_ms(0));
  EXPECT_EQ(parsed("0ms", DURATION, Role::Control), Value::of_duration_ms(0));
}

TEST(ScriptValueSyntax, MalformedDurationsAreRefused) {
  EXPECT_EQ(complaint("5", DURATION), "bad duration '5'; write 250ms, 2s or 0");
  EXPECT_EQ(complaint("5m", DURATION), "bad duration '5m'; write 250ms, 2s or 0");
  EXPECT_EQ(complaint("ms", DURATION), "bad duration 'ms'; write 250ms, 2s or 0");
  EXPECT_EQ(complaint("1.5s", DURATION), "bad duration '1.5s'; write 250ms, 2s or 0");
  EXPECT_EQ(complaint("18446744073709551615s", DURATION),
            "duration '18446744073709551615s' is too long");
}

TEST(ScriptValueSyntax, ExtentsAreLengthFlagPairs) {
  EXPECT_EQ(parsed("4096:0", EXTENTS), Value::of_extents({{4096, 0}}));
  EXPECT_EQ(parsed("64K:0x3,512:1|2", EXTENTS), Value::of_extents({{65536, 3}, {512, 3}}));
}

TEST(ScriptValueSyntax, MalformedExtentsAreRefused) {
  EXPECT_EQ(complaint("4096", EXTENTS), "bad extent '4096'; write length:flags,length:flags,...");
  EXPECT_EQ(complaint("4096:0,", EXTENTS), "bad extent ''; write length:flags,length:flags,...");
  EXPECT_EQ(complaint("4096:x", EXTENTS), "bad number 'x'");
  EXPECT_EQ(complaint("4096:0x100000000", EXTENTS),
            "extent flags in '4096:0x100000000' do not fit in 32 bits");
}

TEST(ScriptValueSyntax, BoolsAreYesNoTrueFalse) {
  EXPECT_EQ(parsed("yes", BOOL), Value::of_bool(true));
  EXPECT_EQ(parsed("true", BOOL), Value::of_bool(true));
  EXPECT_EQ(parsed("no", BOOL), Value::of_bool(false));
  EXPECT_EQ(parsed("false", BOOL), Value::of_bool(false));
  EXPECT_EQ(complaint("maybe", BOOL), "'maybe' is not yes or no");
}

TEST(ScriptValueSyntax, WordsAreTheSpecsWords) {
  EXPECT_EQ(parsed("extended", WORD), Value::of_word("extended"));
  EXPECT_EQ(complaint("Extended", WORD), "'Extended' is not one of compact, extended");
}

TEST(ScriptValueSyntax, EmptyTokenIsAMissingValue) {
  EXPECT_EQ(complaint("", NUMBER), "missing value");
}

TEST(ScriptValueSyntax, ExpectationsCaptureAnyTypeIntoVariables) {
  EXPECT_EQ(parsed("$c", NUMBER, Role::Expect), Value::variable("c"));
  EXPECT_EQ(parsed("$name_2", TEXT, Role::Expect), Value::variable("name_2"));
  EXPECT_EQ(parsed("$d", BYTES, Role::Expect), Value::variable("d"));
}

TEST(ScriptValueSyntax, SendingStepsUseVariablesOnlyForNumbers) {
  EXPECT_EQ(parsed("$c", OPTION, Role::Send), Value::variable("c"));
  EXPECT_EQ(complaint("$d", BYTES, Role::Send),
            "a sending step can use a variable only for a number");
  EXPECT_EQ(complaint("$t", TEXT, Role::Send),
            "a sending step can use a variable only for a number");
}

TEST(ScriptValueSyntax, ControlStepsTakeNoVariables) {
  EXPECT_EQ(complaint("$n", NUMBER, Role::Control),
            "variables belong in expectations and sending steps");
}

TEST(ScriptValueSyntax, VariableNamesAreLettersDigitsAndUnderscores) {
  EXPECT_EQ(complaint("$", NUMBER, Role::Expect),
            "bad variable '$'; names are letters, digits and _");
  EXPECT_EQ(complaint("$a-b", NUMBER, Role::Expect),
            "bad variable '$a-b'; names are letters, digits and _");
}

TEST(ScriptValueSyntax, WildcardsBelongInExpectations) {
  EXPECT_EQ(parsed("*", OPTION, Role::Expect), Value::wildcard());
  EXPECT_EQ(parsed("*", BYTES, Role::Expect), Value::wildcard());
  EXPECT_EQ(complaint("*", OPTION, Role::Send), "wildcards belong in expectations");
  EXPECT_EQ(complaint("*", NUMBER, Role::Control), "wildcards belong in expectations");
}

TEST(ScriptValueSyntax, FormatWritesSpellingsBackAndPlainValuesPlainly) {
  EXPECT_EQ(format_value(parsed("SEND_FLUSH|send-fua", FLAGS)), "SEND_FLUSH|send-fua");
  EXPECT_EQ(format_value(parsed("64M", NUMBER)), "64M");
  EXPECT_EQ(format_value(parsed("0x2a", NUMBER)), "0x2a");
  EXPECT_EQ(format_value(Value::of_number(42)), "42");
  EXPECT_EQ(format_value(parsed("zeros:512", BYTES)), "zeros:512");
  EXPECT_EQ(format_value(parsed(R"("hi\n")", BYTES)), R"("hi\n")");
  EXPECT_EQ(format_value(Value::of_bytes({0x00, 0xab})), "hex:00ab");
  EXPECT_EQ(format_value(parsed("hex:AB", BYTES)), "hex:ab");
  EXPECT_EQ(format_value(Value::of_text("a \"b\"\n")), R"("a \"b\"\n")");
  EXPECT_EQ(format_value(Value::of_duration_ms(0)), "0");
  EXPECT_EQ(format_value(Value::of_duration_ms(2000)), "2s");
  EXPECT_EQ(format_value(Value::of_duration_ms(1500)), "1500ms");
  EXPECT_EQ(format_value(Value::of_extents({{4096, 0}, {512, 3}})), "4096:0,512:3");
  EXPECT_EQ(format_value(Value::of_bool(true)), "yes");
  EXPECT_EQ(format_value(Value::of_bool(false)), "no");
  EXPECT_EQ(format_value(Value::of_word("compact")), "compact");
  EXPECT_EQ(format_value(Value::variable("c")), "$c");
  EXPECT_EQ(format_value(Value::wildcard()), "*");
}

TEST(ScriptValueSyntax, QuoteTextEscapesAllButPrintableAscii) {
  EXPECT_EQ(quote_text(std::string("a\0\t\r\n\\\"\x7f\x80\x01~", 11)),
            R"("a\0\t\r\n\\\"\x7f\x80\x01~")");
}

// Every kind of value reads back equal from what format_value() wrote.
TEST(ScriptValueSyntax, FormattedValuesReadBackEqual) {
  struct Case {
    Value value;
    const ValueSpec* spec;
    Role role;
  };
  std::string every_byte;
  for (int b = 0; b < 256; ++b) every_byte += static_cast<char>(b);
  const std::vector<Case> cases{
      {Value::of_number(0), &NUMBER, Role::Send},
      {Value::of_number(0xffffffffffffffffull), &NUMBER, Role::Send},
      {parsed("0x2a", NUMBER), &NUMBER, Role::Send},
      {parsed("NBD_OPT_GO", OPTION), &OPTION, Role::Send},
      {parsed("HAS_FLAGS|send-fua|64K", FLAGS), &FLAGS, Role::Send},
      {Value::of_text(every_byte), &TEXT, Role::Send},
      {Value::of_text(""), &TEXT, Role::Send},
      {Value::of_bytes({}), &BYTES, Role::Send},
      {Value::of_bytes({0, 1, 0xfe, 0xff}), &BYTES, Role::Send},
      {parsed("zeros:1K", BYTES), &BYTES, Role::Send},
      {parsed(R"("a\x00b")", BYTES), &BYTES, Role::Send},
      {Value::of_duration_ms(0), &DURATION, Role::Control},
      {Value::of_duration_ms(1), &DURATION, Role::Control},
      {Value::of_duration_ms(60000), &DURATION, Role::Control},
      {Value::of_extents({{0, 0}, {0xffffffffffffffffull, 0xffffffffu}}), &EXTENTS, Role::Send},
      {Value::of_bool(true), &BOOL, Role::Send},
      {Value::of_bool(false), &BOOL, Role::Send},
      {Value::of_word("compact"), &WORD, Role::Send},
      {Value::variable("x_1"), &NUMBER, Role::Send},
      {Value::variable("t"), &TEXT, Role::Expect},
      {Value::wildcard(), &BYTES, Role::Expect},
  };
  for (const Case& c : cases) {
    const std::string text = format_value(c.value);
    EXPECT_EQ(parsed(text, *c.spec, c.role), c.value) << text;
  }
}

}  // namespace
}  // namespace nbdref::mock::script
