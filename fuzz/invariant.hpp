// How a fuzz target reports a broken invariant: it names the check and
// where it is, then aborts, which libFuzzer and the replay driver both
// report as a crash on the input at hand.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace nbdref::fuzz {

[[noreturn]] inline void invariant_broken(const char* check, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, check);
  std::abort();
}

}  // namespace nbdref::fuzz

// Aborts naming `condition` unless it holds. A macro so the report quotes
// the condition and its line.
#define FUZZ_REQUIRE(condition)       \
  ((condition) ? static_cast<void>(0) \
               : ::nbdref::fuzz::invariant_broken(#condition, __FILE__, __LINE__))
