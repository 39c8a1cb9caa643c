// What the tool learned about a server and its exports, gathered first and
// printed afterwards as text or JSON, so both forms say the same things.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nbdref::info {

// One transmission capability (proto.md "Transmission flags"), named the
// same way in text and JSON.
struct Capability {
  const char* name;
  bool offered;
};

struct BlockSizes {
  std::uint32_t minimum = 0;
  std::uint32_t preferred = 0;
  std::uint32_t maximum = 0;
};

struct ExportReport {
  std::string name;  // as asked for or as listed
  // Why the server would not describe this export; when set, the fields
  // below are empty.
  std::optional<std::string> failure;
  std::string canonical_name;
  std::optional<std::string> description;
  std::uint64_t size = 0;
  std::vector<Capability> capabilities;
  std::optional<BlockSizes> block_sizes;  // empty: not advertised
  std::vector<std::string> contexts;
  // Why the metadata contexts could not be listed, if they could not.
  std::optional<std::string> contexts_unavailable;
};

struct ServerReport {
  std::string protocol;
  bool structured_replies = false;
  bool extended_headers = false;
  // Whether `exports` is the server's own list (--list) rather than the one
  // export asked for.
  bool listed = false;
  std::vector<ExportReport> exports;
};

}  // namespace nbdref::info
