// The disks behind `serve` steps, shared by every connection of one mock
// server run: the first connection to serve an export creates its disk,
// later ones (and other threads) get the same one.
#pragma once

#include <map>
#include <mutex>
#include <span>
#include <string>

#include "server/serve_config.hpp"

namespace nbdref::mock {

class ExportStore {
 public:
  // The served export for `config`: the existing one of that name, or a new
  // one with a fresh disk of config.size bytes holding `initial_data` from
  // offset 0 (cut at the disk's end). An existing export keeps its disk and
  // its contents -- `initial_data` is not written again -- and its config is
  // replaced. (A config whose size differs from the kept disk's then fails
  // config_problem().)
  ServedExport get(const ExportConfig& config, std::span<const std::uint8_t> initial_data = {});
  // How many exports exist.
  std::size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, ServedExport> exports_;
};

}  // namespace nbdref::mock
