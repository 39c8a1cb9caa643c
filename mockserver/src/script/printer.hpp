// Script to text that parse_script() reads back into an equal Script: one
// step per line, blocks indented by two spaces, arguments in the order they
// are held, values as they were spelled (or plainly when built in C++).
#pragma once

#include <string>

#include "script/step.hpp"

namespace nbdref::mock::script {

std::string print_script(const Script& script);
// One step as a single line, without its block ("reply GO ack").
std::string print_step_line(const Step& step);

}  // namespace nbdref::mock::script
