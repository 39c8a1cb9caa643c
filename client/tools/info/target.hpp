// Where the server is and how to reach it. Every form of target the command
// line accepts is parsed, described and connected here, so a new form (an
// NBD URI) is added in this one place.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nbdref/client.hpp>

namespace nbdref::info {

struct Target {
  enum class Kind { UnixSocket, Tcp, Command };
  Kind kind = Kind::UnixSocket;
  std::string path;                  // UnixSocket
  std::string host;                  // Tcp, without IPv6 brackets
  std::string port;                  // Tcp
  std::vector<std::string> command;  // Command: argv of the server
};

// Whether `option` ("--unix", ...) names a target and takes one value.
bool is_target_option(std::string_view option);
// The target named by a target option and its value. Throws UsageError when
// the value is malformed.
Target parse_target_option(std::string_view option, std::string_view value);
// The target for the words after "--". Throws UsageError when there are none.
Target command_target(std::vector<std::string> command);

// "unix socket /run/nbd.sock", "tcp [::1]:10809", "command nbdkit -s memory 1G".
std::string describe(const Target& target);

// Connects `client`; throws StepError naming the target.
void connect(Client& client, const Target& target);

}  // namespace nbdref::info
