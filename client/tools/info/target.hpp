// Where the server is and how to reach it. Every form of target the command
// line accepts is parsed, described and connected here.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nbdref/client.hpp>

namespace nbdref::info {

struct Target {
  enum class Kind { UnixSocket, Tcp, Command, Uri };
  Kind kind = Kind::UnixSocket;
  std::string path;                  // UnixSocket
  std::string host;                  // Tcp, without IPv6 brackets
  std::string port;                  // Tcp
  std::vector<std::string> command;  // Command: argv of the server
  std::string uri;                   // Uri: an NBD URI, read by the library
};

// Whether `option` ("--unix", ...) names a target and takes one value.
bool is_target_option(std::string_view option);
// The target named by a target option and its value. Throws UsageError when
// the value is malformed.
Target parse_target_option(std::string_view option, std::string_view value);
// The target for the words after "--". Throws UsageError when there are none.
Target command_target(std::vector<std::string> command);

// Whether a word is meant as an NBD URI: it starts with a scheme and "://"
// ("nbd://", "nbds+unix://", ...). The library reads the rest.
bool looks_like_uri(std::string_view word);
// The target for a URI word.
Target uri_target(std::string_view uri);

// "unix socket /run/nbd.sock", "tcp [::1]:10809", "command nbdkit -s memory 1G",
// or the URI itself.
std::string describe(const Target& target);

// Connects `client`; throws StepError naming the target, or UsageError when
// the library refused a URI before trying to connect (a malformed one).
void connect(Client& client, const Target& target);

}  // namespace nbdref::info
