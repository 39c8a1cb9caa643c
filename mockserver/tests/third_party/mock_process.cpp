#include "third_party/mock_process.hpp"

#include <sys/stat.h>

#include <chrono>
#include <stdexcept>
#include <thread>

namespace nbdref::test {
namespace {

std::vector<std::string> mock_argv(const std::string& socket, std::vector<std::string> extra,
                                   const std::string& script) {
  std::vector<std::string> argv{NBDREF_MOCK_TOOL, "--unix", socket, "--connections", "0"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back(script);
  return argv;
}

}  // namespace

MockProcess::MockProcess(const std::string& script, std::vector<std::string> extra_args)
    : dir_("nbdref-mock-process"),
      socket_(dir_.file("mock.sock")),
      child_(mock_argv(socket_, std::move(extra_args), script),
             {.output_path = dir_.file("output")}) {
  // nbdref-mock renames the socket into place once it listens.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  struct stat st {};
  while (::stat(socket_.c_str(), &st) != 0) {
    if (child_.has_exited() || std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error(child_.command_line() + " did not listen (" +
                               child_.exit_description() + "):\n" + child_.output());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::string MockProcess::uri(const std::string& export_name) const {
  return "nbd+unix:///" + export_name + "?socket=" + socket_;
}

}  // namespace nbdref::test

namespace nbdref::test {

std::optional<int> MockProcess::exit_status_within(std::chrono::milliseconds limit) {
  if (!child_.wait_for_exit(limit)) return std::nullopt;
  return child_.exit_status();
}

}  // namespace nbdref::test
