#include "tools/info_run.hpp"

#include <fstream>
#include <utility>

#include "support/temp_dir.hpp"

namespace nbdref::test {

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
