// What the RAM-disk server offers: its exports, each with the disk behind
// it, and which parts of the handshake it speaks. Sessions copy it; the
// disks stay shared through their shared_ptr.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "script/serve_fault.hpp"
#include "server/export_config.hpp"
#include "server/ram_disk.hpp"

namespace nbdref::mock {

struct ServedExport {
  ExportConfig config;
  std::shared_ptr<RamDisk> disk;  // config.size bytes
};

// An export with a fresh, empty disk of its configured size.
ServedExport make_served_export(ExportConfig config,
                                std::uint32_t page_size = RamDisk::DEFAULT_PAGE_SIZE);

struct ServeConfig {
  std::vector<ServedExport> exports;
  // Oldstyle: the greeting carries the first export's size and flags and
  // transmission follows at once, without options.
  bool oldstyle = false;
  // Handshake flags offered in the newstyle greeting.
  bool fixed_newstyle = true;
  bool no_zeroes = true;
  // Options answered; the others get NBD_REP_ERR_UNSUP (NBD_OPT_LIST gets
  // NBD_REP_ERR_POLICY, as a server whose listing is disabled).
  bool list = true;
  bool info_and_go = true;
  bool structured_replies = true;
  bool extended_headers = true;
  bool meta_contexts = true;  // base:allocation
  // Longest option data accepted; a longer option ends the session as a
  // denial of service (S-HS-011).
  std::uint32_t max_option_length = 64 * 1024;
  // The one server rule broken on purpose, if any (script/serve_fault.hpp).
  script::ServeFault fault = script::ServeFault::None;

  // The export `name` selects, or nullptr. The empty name selects the
  // default export: one named "" if there is one, else the first export.
  const ServedExport* find(std::string_view name) const;
};

// Why `config` would make the server break the protocol, or nullopt when it
// is sound: strings that break the rules, block sizes the spec forbids,
// disks that do not match their exports.
std::optional<std::string> config_problem(const ServeConfig& config);

}  // namespace nbdref::mock
