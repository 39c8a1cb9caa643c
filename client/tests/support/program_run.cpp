#include "support/program_run.hpp"

#include <utility>

#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

namespace nbdref::test {

std::string describe(const ProgramRun& run) {
  const std::string ending =
      run.status ? "exit status " + std::to_string(*run.status) : std::string("no exit status");
  return run.command_line + "\n" + ending + ", output:\n" + run.output;
}

ProgramRun run_program(std::vector<std::string> argv, std::chrono::milliseconds limit) {
  TempDir dir("nbdref-program");
  ChildProcess child(std::move(argv), {.output_path = dir.file("output")});
  ProgramRun run;
  run.command_line = child.command_line();
  if (child.wait_for_exit(limit)) run.status = child.exit_status();
  child.stop();
  run.output = child.output();
  return run;
}

}  // namespace nbdref::test
