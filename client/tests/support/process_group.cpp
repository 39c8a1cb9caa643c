#include "support/process_group.hpp"

#include <signal.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace nbdref::test {
namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(5);

struct ProcessStat {
  char state = '?';
  pid_t pgid = 0;
};

// Fields of /proc/PID/stat after the command name, which is in parentheses and
// may itself contain spaces and parentheses: hence the search for the last ')'.
bool read_stat(pid_t pid, ProcessStat& out) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return false;
  auto close = line.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream fields(line.substr(close + 1));
  pid_t ppid = 0;
  fields >> out.state >> ppid >> out.pgid;
  return static_cast<bool>(fields);
}

bool is_running_state(char state) {
  return state != 'Z' && state != 'X' && state != 'x';
}

bool wait_until_group_empty(pid_t pgid, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!live_group_members(pgid).empty()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kPollInterval);
  }
  return true;
}

}  // namespace

bool process_is_alive(pid_t pid) {
  ProcessStat stat;
  return read_stat(pid, stat) && is_running_state(stat.state);
}

std::vector<pid_t> live_group_members(pid_t pgid) {
  std::vector<pid_t> members;
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/proc", ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    pid_t pid = static_cast<pid_t>(std::stol(name));
    ProcessStat stat;
    // A process can exit between listing /proc and reading its stat.
    if (read_stat(pid, stat) && stat.pgid == pgid && is_running_state(stat.state)) {
      members.push_back(pid);
    }
  }
  return members;
}

std::vector<pid_t> terminate_process_group(pid_t pgid, std::chrono::milliseconds grace) {
  for (int signal : {SIGTERM, SIGKILL}) {
    if (live_group_members(pgid).empty()) return {};
    ::kill(-pgid, signal);
    if (wait_until_group_empty(pgid, grace)) return {};
  }
  return live_group_members(pgid);
}

}  // namespace nbdref::test
