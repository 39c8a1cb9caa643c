#include "support/nbdkit_server.hpp"

#include <utility>

namespace nbdref::test {
namespace {

ForegroundServer start_nbdkit(const TempDir& dir, const NbdkitServer::Options& options) {
  return start_foreground_server(dir, "nbdkit", options.transport, [&](const Endpoint& endpoint) {
    // -f keeps nbdkit in the foreground as our child, so its process group is
    // ours to stop; --exit-with-parent is nbdkit's own guard against a test
    // that dies without stopping it.
    std::vector<std::string> argv = {"nbdkit", "-f", "--exit-with-parent"};
    if (options.read_only) argv.push_back("-r");
    if (endpoint.is_unix()) {
      argv.insert(argv.end(), {"-U", endpoint.unix_path});
    } else {
      argv.insert(argv.end(), {"-i", endpoint.host, "-p", endpoint.port});
    }
    argv.insert(argv.end(), options.extra_args.begin(), options.extra_args.end());
    argv.push_back(options.plugin);
    argv.insert(argv.end(), options.plugin_args.begin(), options.plugin_args.end());
    return argv;
  });
}

}  // namespace

NbdkitServer::NbdkitServer(Options options)
    : options_(std::move(options)), dir_("nbdref-nbdkit"), server_(start_nbdkit(dir_, options_)) {}

}  // namespace nbdref::test
