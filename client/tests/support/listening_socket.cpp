#include "support/listening_socket.hpp"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>

namespace nbdref::test {
namespace {

using Inodes = std::set<std::string>;

// /proc/net/tcp: "sl local_address rem_address st ... inode ...", with the
// port in hex after the colon of local_address and st 0A meaning LISTEN.
Inodes tcp_listener_inodes(const std::string& port) {
  Inodes inodes;
  std::ifstream in("/proc/net/tcp");
  std::string line;
  std::getline(in, line);  // column titles
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
    fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
        timeout >> inode;
    auto colon = local.find(':');
    if (!fields || colon == std::string::npos || state != "0A") continue;
    if (std::stoul(local.substr(colon + 1), nullptr, 16) == std::stoul(port)) inodes.insert(inode);
  }
  return inodes;
}

// /proc/net/unix: "Num RefCount Protocol Flags Type St Inode Path", where flag
// 0x10000 (__SO_ACCEPTCON) marks a listening socket.
Inodes unix_listener_inodes(const std::string& path) {
  Inodes inodes;
  std::ifstream in("/proc/net/unix");
  std::string line;
  std::getline(in, line);  // column titles
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string num, refcount, protocol, flags, type, state, inode, socket_path;
    fields >> num >> refcount >> protocol >> flags >> type >> state >> inode >> socket_path;
    if (!fields) continue;
    if ((std::stoul(flags, nullptr, 16) & 0x10000u) && socket_path == path) inodes.insert(inode);
  }
  return inodes;
}

}  // namespace

bool process_listens_on(pid_t pid, const Endpoint& endpoint) {
  Inodes listeners = endpoint.is_unix() ? unix_listener_inodes(endpoint.unix_path)
                                        : tcp_listener_inodes(endpoint.port);
  if (listeners.empty()) return false;
  // Error codes rather than exceptions throughout: the process may exit while
  // its descriptors are being read.
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec), end;
       !ec && it != end; it.increment(ec)) {
    std::error_code link_ec;
    std::string target = std::filesystem::read_symlink(it->path(), link_ec).string();
    // A socket descriptor reads as "socket:[INODE]".
    if (!link_ec && target.size() > 9 && target.compare(0, 8, "socket:[") == 0 &&
        listeners.count(target.substr(8, target.size() - 9))) {
      return true;
    }
  }
  return false;
}

Readiness wait_until_listening(pid_t pid, const Endpoint& endpoint,
                               const std::function<bool()>& has_exited,
                               std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    if (process_listens_on(pid, endpoint)) return Readiness::Listening;
    if (has_exited()) return Readiness::Exited;
    if (std::chrono::steady_clock::now() >= deadline) return Readiness::TimedOut;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace nbdref::test
