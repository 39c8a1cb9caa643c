#include "server/export_store.hpp"

#include <algorithm>

namespace nbdref::mock {

ServedExport ExportStore::get(const ExportConfig& config,
                              std::span<const std::uint8_t> initial_data) {
  const std::lock_guard<std::mutex> lock(mutex_);
  auto it = exports_.find(config.name);
  if (it != exports_.end()) {
    it->second.config = config;
    return it->second;
  }
  ServedExport e = make_served_export(config);
  const std::size_t n =
      static_cast<std::size_t>(std::min<std::uint64_t>(initial_data.size(), config.size));
  if (n > 0) e.disk->write(0, initial_data.first(n));
  exports_.emplace(config.name, e);
  return e;
}

std::size_t ExportStore::size() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return exports_.size();
}

}  // namespace nbdref::mock
