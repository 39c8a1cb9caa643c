#include "tools/info_run.hpp"

#include <chrono>
#include <fstream>
#include <utility>

#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

namespace nbdref::test {

std::string describe(const ProgramRun& run) {
  const std::string ending =
      run.status ? "exit status " + std::to_string(*run.status) : std::string("no exit status");
  return run.command_line + "\n" + ending + ", output:\n" + run.output;
}

ProgramRun run_program(std::vector<std::string> argv) {
  TempDir dir("nbdref-info-test");
  ChildProcess child(std::move(argv), {.output_path = dir.file("output")});
  ProgramRun run;
  run.command_line = child.command_line();
  if (child.wait_for_exit(std::chrono::seconds(20))) run.status = child.exit_status();
  child.stop();
  run.output = child.output();
  return run;
}

ProgramRun run_info(std::vector<std::string> args) {
  args.insert(args.begin(), NBDREF_INFO_TOOL);
  return run_program(std::move(args));
}

ProgramRun run_jq(const std::string& json, const std::string& filter) {
  TempDir dir("nbdref-info-jq");
  const std::string path = dir.file("document.json");
  std::ofstream(path) << json;
  return run_program({"jq", "-e", filter, path});
}

std::vector<std::string> nbdkit_command(std::vector<std::string> plugin_and_args) {
  std::vector<std::string> argv = {"nbdkit", "-s", "--exit-with-parent"};
  argv.insert(argv.end(), plugin_and_args.begin(), plugin_and_args.end());
  return argv;
}

std::vector<std::string> with_command(std::vector<std::string> options,
                                      const std::vector<std::string>& command) {
  options.push_back("--");
  options.insert(options.end(), command.begin(), command.end());
  return options;
}

}  // namespace nbdref::test
