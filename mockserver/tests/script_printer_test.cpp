// Script to text: the layout, spellings written back, and round trips:
// whatever is printed parses back into an equal script, for every form,
// every key, every value kind, nested blocks, and what the builder built.
#include "script/printer.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <string>

#include "script/builder.hpp"
#include "script/parser.hpp"
#include "script/value_syntax.hpp"
#include "script/vocabulary.hpp"

namespace nbdref::mock::script {
namespace {

Script parsed(std::string_view text) {
  auto s = parse_script(text);
  EXPECT_TRUE(s.has_value()) << s.error().describe("printed") << "\n" << text;
  return s ? *s : Script{};
}

// print_script(s) must parse back into s.
void expect_round_trip(const Script& s) {
  const std::string text = print_script(s);
  EXPECT_EQ(parsed(text), s) << text;
}

Value value_of(std::string_view text, const ValueSpec& spec, Role role) {
  auto v = parse_value(text, spec, role);
  EXPECT_TRUE(v.has_value()) << text << ": " << v.error();
  return v ? *v : Value{};
}

// A value of `spec`'s type, spelled as a script would: numbers with a
// protocol name from the key's table where there is one.
std::string sample_text(const ValueSpec& spec) {
  switch (spec.type) {
    case ValueType::Number: {
      const auto name = symbol_name(spec.symbols, 1);
      return name ? "0x2|4K|" + *name : "0x2|4K";
    }
    case ValueType::Text:
      return R"("a \"quoted\" # text\n")";
    case ValueType::Bytes:
      return "hex:00ff10";
    case ValueType::Duration:
      return "1500ms";
    case ValueType::Extents:
      return "4096:0,64K:0x3";
    case ValueType::Bool:
      return "no";
    case ValueType::Word:
      return std::string(spec.words.back());
  }
  return {};
}

// A step of `form` with every subject and every key given.
Step every_argument(const FormSpec& form,
                    const std::function<std::string(const ValueSpec&)>& text) {
  Step step;
  step.kind = form.kind;
  for (const ValueSpec& spec : form.subjects) {
    step.subjects.push_back(value_of(text(spec), spec, form.role));
  }
  for (const KeySpec& key : form.keys) {
    step.args.push_back(
        {std::string(key.key), value_of(text(key.value), key.value, form.role), {}});
  }
  return step;
}

// Every form once with `text` for its values; blocks hold a step (serve:
// an export) so they print as blocks.
Script every_form(const std::function<std::string(const ValueSpec&)>& text) {
  Script s;
  for (const FormSpec& form : forms()) {
    if (form.kind == StepKind::Export) continue;  // only inside serve
    Step step = every_argument(form, text);
    if (form.kind == StepKind::Serve) {
      step.body.push_back(every_argument(form_of(StepKind::Export), text));
    } else if (form.block) {
      step.body.push_back(every_argument(form_of(StepKind::Close), text));
    }
    s.steps.push_back(std::move(step));
  }
  return s;
}

TEST(ScriptPrinter, StepLineIsTheFormWithSubjectsThenArguments) {
  const Script s = parsed("reply GO error unsup message=\"no\" type=0x80000001\n");
  EXPECT_EQ(print_step_line(s.steps[0]), "reply GO error unsup message=\"no\" type=0x80000001");
}

TEST(ScriptPrinter, StepLineLeavesOutTheBlock) {
  const Script s = parsed("repeat 3 {\n  close\n}\n");
  EXPECT_EQ(print_step_line(s.steps[0]), "repeat 3");
}

TEST(ScriptPrinter, PrintsWhatWasParsedAsItWasWritten) {
  const std::string text =
      R"(greeting newstyle flags=FIXED_NEWSTYLE|no-zeroes magic=0x4e42444d41474943
expect client-flags flags=* timeout=2s
expect option GO name="my disk" data=$d
reply GO info export size=64M flags=HAS_FLAGS|SEND_FLUSH
reply GO info block-size minimum=1 preferred=4K maximum=32M
reply NBD_OPT_GO ack
expect request READ cookie=$c offset=0 length=512 form=extended
chunk data cookie=$c flags=DONE data=zeros:512
chunk block-status-ext id=1 extents=4096:0,512:3
simple-reply error=EIO data="text bytes\x00"
repeat 2 {
  fragments 1 gap=0 {
    raw hex:00ff
  }
  pause 250ms
}
serve extended=no {
  export name="a" size=1M read-only=yes
}
serve
expect eof
)";
  EXPECT_EQ(print_script(parsed(text)), text);
}

TEST(ScriptPrinter, BuiltValuesPrintPlainly) {
  ScriptBuilder b;
  b.greeting_newstyle().set("flags", 3);
  b.expect_option("GO").set("name", "disk").capture("data", "d");
  b.simple_reply().use("cookie", "c").set("data", std::vector<std::uint8_t>{1, 0xab});
  b.chunk_block_status().set("extents", std::vector<ExtentSpec>{{4096, 0}, {512, 3}});
  b.pause_ms(2000);
  b.repeat(2, [](ScriptBuilder& r) { r.close(); });
  b.serve();
  EXPECT_EQ(print_script(b.build()),
            "greeting newstyle flags=3\n"
            "expect option GO name=\"disk\" data=$d\n"
            "simple-reply cookie=$c data=hex:01ab\n"
            "chunk block-status extents=4096:0,512:3\n"
            "pause 2s\n"
            "repeat 2 {\n"
            "  close\n"
            "}\n"
            "serve\n");
}

TEST(ScriptPrinter, EmptyBlocksOfRepeatPrintAsBlocksAndOfServeAsNone) {
  Script s;
  Step repeat;
  repeat.kind = StepKind::Repeat;
  repeat.subjects.push_back(Value::of_number(2));
  Step serve;
  serve.kind = StepKind::Serve;
  s.steps = {repeat, serve};
  EXPECT_EQ(print_script(s), "repeat 2 {\n}\nserve\n");
  expect_round_trip(s);
}

TEST(ScriptPrinter, EmptyScriptPrintsNothing) {
  EXPECT_EQ(print_script(Script{}), "");
}

TEST(ScriptPrinter, EveryFormWithEveryKeyRoundTrips) {
  const Script s = every_form(sample_text);
  std::set<StepKind> kinds;
  for (const Step& step : s.steps) {
    kinds.insert(step.kind);
    for (const Step& inner : step.body) kinds.insert(inner.kind);
  }
  EXPECT_EQ(kinds.size(), forms().size()) << "a form is missing from the round trip";
  expect_round_trip(s);
}

TEST(ScriptPrinter, WildcardsAndCapturesInExpectationsRoundTrip) {
  Script s;
  bool capture = false;
  const auto star_or_variable = [&](const ValueSpec&) -> std::string {
    capture = !capture;
    return capture ? "$v" : "*";
  };
  for (const FormSpec& form : forms()) {
    if (form.role == Role::Expect) s.steps.push_back(every_argument(form, star_or_variable));
  }
  ASSERT_EQ(s.steps.size(), 4u);
  expect_round_trip(s);
}

TEST(ScriptPrinter, VariablesUsedInSendingStepsRoundTrip) {
  Script s;
  for (const FormSpec& form : forms()) {
    if (form.role != Role::Send) continue;
    Step step;
    step.kind = form.kind;
    for (const ValueSpec& spec : form.subjects) {
      step.subjects.push_back(
          value_of(spec.type == ValueType::Number ? "$s" : sample_text(spec), spec, form.role));
    }
    for (const KeySpec& key : form.keys) {
      if (key.value.type == ValueType::Number) {
        step.args.push_back({std::string(key.key), Value::variable("n_1"), {}});
      }
    }
    s.steps.push_back(std::move(step));
  }
  expect_round_trip(s);
}

TEST(ScriptPrinter, EveryValueKindAndSpellingRoundTrips) {
  const Script s =
      parsed(R"(greeting oldstyle size=0 flags=0x8001 magic=18446744073709551615 padding=1|2
export-name-reply size=1T flags=has-flags|NBD_FLAG_READ_ONLY
reply GO info raw info-type=NAME data=""
reply GO raw data=hex:
reply GO meta-context id=0xffffffff name="base:allocation"
reply GO server name="\t\r\n\0\\\x01\xff" details=""
chunk raw payload="quoted \"bytes\""
chunk error-offset error=enospc message="" offset=1G
chunk block-status extents=0:0
chunk none form=compact
expect request * data=* timeout=0 form=compact
pause 1ms
)");
  ASSERT_EQ(s.steps.size(), 12u);
  expect_round_trip(s);
}

TEST(ScriptPrinter, NestedBlocksRoundTrip) {
  const Script s = parsed(R"(repeat 2 {
  repeat 3 {
    fragments 1 {
      repeat 1 {
        raw hex:00
      }
    }
    serve {
      export name="x"
    }
  }
  close
}
)");
  const std::string text = print_script(s);
  EXPECT_NE(text.find("\n        raw hex:00\n"), std::string::npos) << text;
  expect_round_trip(s);
}

TEST(ScriptPrinter, WhatTheBuilderBuiltRoundTrips) {
  ScriptBuilder b;
  b.greeting_newstyle().set("flags", "FIXED_NEWSTYLE|NO_ZEROES");
  b.expect_client_flags().any("flags").set_ms("timeout", 1500);
  b.expect_option().capture("name", "n");
  b.reply_info_export("$o").set("size", 1 << 20).set("flags", "HAS_FLAGS|SEND_FLUSH");
  b.reply_info_name("GO").set("name", "with \"quotes\" and # hash");
  b.reply_info_description("GO").set("text", std::string_view("nul\0byte", 8));
  b.reply_info_block_size("GO").set("minimum", 1).set("preferred", "4K").set("maximum", "32M");
  b.reply_info_raw("GO").set("info-type", "BLOCK_SIZE").set("data", "text as bytes");
  b.reply_meta_context("7").set("id", 1).set("name", "base:allocation");
  b.reply_error("GO", "policy").set("message", "no");
  b.reply_raw("GO").set("type", "ERR_UNSUP").set("data", std::vector<std::uint8_t>{});
  b.reply_ack("GO");
  b.reply_server("LIST").set("name", "a");
  b.export_name_reply().set("size", 4096).set("padding", 0);
  b.expect_request("WRITE").capture("cookie", "c").set("form", "extended").any("data");
  b.simple_reply().use("cookie", "c").set("error", "EINVAL");
  b.chunk_none().set("flags", "DONE").set("form", "structured");
  b.chunk_data().set("data", "text").set("offset", 0);
  b.chunk_hole().set("size", 512);
  b.chunk_block_status().set("extents", "4096:0");
  b.chunk_block_status_ext().set("extents", std::vector<ExtentSpec>{{1, 2}}).set("count", 0);
  b.chunk_error().set("error", 5).set("message", "bad");
  b.chunk_error_offset().set("error", "EIO").set("offset", 512);
  b.chunk_raw().set("type", "NONE").set("payload", std::vector<std::uint8_t>{0xde, 0xad});
  b.raw({0x00, 0xff});
  b.fragments(3, [](ScriptBuilder& f) {
     f.repeat(2, [](ScriptBuilder& r) { r.pause_ms(0); });
   }).set_ms("gap", 5);
  b.half_close();
  b.expect_eof();
  b.serve([](ScriptBuilder& s) {
     s.export_("a", 1 << 20).set("read-only", true).set("description", "first");
     s.export_("", 4096).set("data", std::vector<std::uint8_t>{1, 2, 3});
   }).set("extended", false);
  b.close();
  expect_round_trip(b.build());
}

}  // namespace
}  // namespace nbdref::mock::script
