#include "script/printer.hpp"

#include "script/value_syntax.hpp"
#include "script/vocabulary.hpp"

namespace nbdref::mock::script {
namespace {

void print_steps(const std::vector<Step>& steps, std::size_t depth, std::string& out) {
  const std::string indent(depth * 2, ' ');
  for (const Step& step : steps) {
    out += indent + print_step_line(step);
    // serve without exports needs no block; repeat and fragments always do.
    if (form_of(step.kind).block && !(step.kind == StepKind::Serve && step.body.empty())) {
      out += " {\n";
      print_steps(step.body, depth + 1, out);
      out += indent + "}";
    }
    out += '\n';
  }
}

}  // namespace

std::string print_step_line(const Step& step) {
  const std::string_view pattern = form_of(step.kind).pattern;
  std::string out;
  std::size_t subject = 0;
  std::size_t pos = 0;
  while (pos < pattern.size()) {
    const std::size_t open = pattern.find('<', pos);
    if (open == std::string_view::npos) {
      out += pattern.substr(pos);
      break;
    }
    const std::size_t close = pattern.find('>', open);
    out += pattern.substr(pos, open - pos);
    // A step short of subjects (built by hand) shows the placeholder.
    out += subject < step.subjects.size() ? format_value(step.subjects[subject])
                                          : std::string(pattern.substr(open, close + 1 - open));
    ++subject;
    pos = close + 1;
  }
  for (const Arg& arg : step.args) out += " " + arg.key + "=" + format_value(arg.value);
  return out;
}

std::string print_script(const Script& script) {
  std::string out;
  print_steps(script.steps, 0, out);
  return out;
}

}  // namespace nbdref::mock::script
