#include "support/qemu_nbd_server.hpp"

#include <filesystem>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace nbdref::test {
namespace {

std::string image_for(const TempDir& dir, const QemuNbdServer::Options& options) {
  if (!options.image_path.empty()) return options.image_path;
  return dir.create_sparse_file("disk.raw", options.size);
}

std::uint64_t size_of(const std::string& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec) throw std::runtime_error("cannot serve " + path + " with qemu-nbd: " + ec.message());
  return size;
}

ForegroundServer start_qemu_nbd(const TempDir& dir, const QemuNbdServer::Options& options,
                                const std::string& image) {
  return start_foreground_server(dir, "qemu-nbd", options.transport, [&](const Endpoint& endpoint) {
    // -t keeps serving after the first client leaves; -e 8 lets several
    // clients connect at once (the default is one).
    std::vector<std::string> argv = {"qemu-nbd",          "-f", "raw", "-x",
                                     options.export_name, "-t", "-e",  "8"};
    if (options.read_only) argv.push_back("-r");
    if (options.discard) argv.push_back("--discard=unmap");
    if (endpoint.is_unix()) {
      argv.insert(argv.end(), {"-k", endpoint.unix_path});
    } else {
      argv.insert(argv.end(), {"-b", endpoint.host, "-p", endpoint.port});
    }
    argv.insert(argv.end(), options.extra_args.begin(), options.extra_args.end());
    argv.push_back(image);
    return argv;
  });
}

}  // namespace

QemuNbdServer::QemuNbdServer(Options options)
    : options_(std::move(options)),
      dir_("nbdref-qemu"),
      image_path_(image_for(dir_, options_)),
      size_(size_of(image_path_)),
      server_(start_qemu_nbd(dir_, options_, image_path_)) {}

}  // namespace nbdref::test
