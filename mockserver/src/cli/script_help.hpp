// The --help-script text: every step of the language with its keys, made
// from the vocabulary table so it cannot fall behind the parser.
#pragma once

#include <string>

namespace nbdref::mock::cli {

std::string script_help_text();

}  // namespace nbdref::mock::cli
