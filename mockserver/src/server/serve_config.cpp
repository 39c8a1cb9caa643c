#include "server/serve_config.hpp"

#include "wire/limits.hpp"
#include "wire/strings.hpp"

namespace nbdref::mock {
namespace {

using namespace wire;

bool is_power_of_two(std::uint64_t v) {
  return v != 0 && (v & (v - 1)) == 0;
}

std::optional<std::string> export_problem(const ServedExport& e) {
  const auto& c = e.config;
  const std::string where = "export '" + c.name + "': ";
  // S-GEN-001, S-GEN-003: the name and description go out in replies.
  if (auto err = check_string(c.name, "name", SERVER_STRING)) return where + err->to_string();
  if (auto err = check_string(c.description, "description", SERVER_STRING)) {
    return where + err->to_string();
  }
  if (!e.disk) return where + "has no disk";
  if (e.disk->size() != c.size) {
    return where + "its disk holds " + std::to_string(e.disk->size()) + " bytes, not " +
           std::to_string(c.size);
  }
  if (!is_power_of_two(e.disk->page_size())) return where + "disk page size is not a power of two";
  if (!c.advertises_block_sizes()) return std::nullopt;
  const auto s = c.block_sizes();
  if (!is_power_of_two(s.minimum) || s.minimum > MAX_MINIMUM_BLOCK_SIZE) {
    return where + "minimum block size must be a power of two up to 65536 [S-SZ-007, S-SZ-008]";
  }
  if (!is_power_of_two(s.preferred) || s.preferred < 512 || s.preferred < s.minimum) {
    return where +
           "preferred block size must be a power of two, at least 512 and the minimum "
           "[S-SZ-010, S-SZ-011]";
  }
  if (s.maximum < s.preferred) {
    return where + "maximum payload is below the preferred block size [S-SZ-013]";
  }
  if (c.size % s.minimum != 0) {
    return where + "size is not a multiple of the minimum block size [S-SZ-009]";
  }
  // Status extents follow the disk's pages; they must stay multiples of the
  // minimum block size (X-S-041).
  if (s.minimum > e.disk->page_size()) {
    return where + "minimum block size exceeds the disk's page size " +
           std::to_string(e.disk->page_size()) + " [X-S-041]";
  }
  return std::nullopt;
}

}  // namespace

ServedExport make_served_export(ExportConfig config, std::uint32_t page_size) {
  auto disk = std::make_shared<RamDisk>(config.size, page_size);
  return ServedExport{std::move(config), std::move(disk)};
}

const ServedExport* ServeConfig::find(std::string_view name) const {
  for (const auto& e : exports) {
    if (e.config.name == name) return &e;
  }
  if (name.empty() && !exports.empty()) return &exports.front();
  return nullptr;
}

std::optional<std::string> config_problem(const ServeConfig& config) {
  for (std::size_t i = 0; i < config.exports.size(); ++i) {
    if (auto p = export_problem(config.exports[i])) return p;
    for (std::size_t j = 0; j < i; ++j) {
      if (config.exports[j].config.name == config.exports[i].config.name) {
        return "two exports are named '" + config.exports[i].config.name + "'";
      }
    }
  }
  if (config.oldstyle && config.exports.empty()) {
    return "an oldstyle server needs an export to describe in its greeting";
  }
  if (config.extended_headers && !config.info_and_go) {
    return "a server offering extended headers must support NBD_OPT_GO [X-S-025]";
  }
  using script::ServeFault;
  if (config.fault == ServeFault::OldstyleHandshakeFlags && !config.oldstyle) {
    return "fault oldstyle-handshake-flags needs oldstyle=yes";
  }
  if (config.fault == ServeFault::AcceptUnofferedNoZeroes && config.no_zeroes) {
    return "fault accept-unoffered-no-zeroes needs no-zeroes=no";
  }
  return std::nullopt;
}

}  // namespace nbdref::mock
