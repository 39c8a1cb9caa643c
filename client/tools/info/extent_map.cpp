#include "extent_map.hpp"

#include <algorithm>

#include "step_error.hpp"

namespace nbdref::info {
namespace {

// Largest count per request: fits the 32-bit length of compact request
// headers, and as a power of two it keeps every request aligned to any
// minimum block size the server may advertise.
constexpr std::uint64_t kMaxRequest = std::uint64_t{1} << 31;

void append_merged(std::vector<Extent>& extents, const Extent& next) {
  if (!extents.empty() && extents.back().flags == next.flags) {
    extents.back().length += next.length;
  } else {
    extents.push_back(next);
  }
}

void open_with_context(Client& client, const std::string& export_name, const std::string& context) {
  const std::string what = "opening " + export_label(export_name);
  if (client.is_negotiating()) {
    while_doing(what, [&] {
      client.set_export_name(export_name);
      client.add_meta_context(context);
      client.opt_go();
    });
  }
  // C-BS-002: block status only for a context the server agreed to.
  if (!while_doing(what, [&] { return client.can_meta_context(context); })) {
    throw StepError(what + ": the server does not offer metadata context " + context);
  }
}

}  // namespace

ExtentMap map_extents(Client& client, const std::string& export_name, const std::string& context) {
  open_with_context(client, export_name, context);
  ExtentMap map;
  map.export_name = export_name;
  map.context = context;
  map.size = while_doing("reading the export size", [&] { return client.size(); });

  std::uint64_t covered = 0;
  while (covered < map.size) {
    const std::uint64_t start = covered;
    const std::uint64_t count = std::min(map.size - start, kMaxRequest);
    while_doing("reading block status at offset " + std::to_string(start), [&] {
      client.block_status(count, start, [&](std::string_view name, std::span<const Extent> got) {
        // A query may select more contexts than the one asked for (S-BS-038).
        if (name != context) return 0;
        for (const auto& e : got) {
          // The last extent may run past the request (S-BS-045); never past
          // the end of the export.
          const std::uint64_t length = std::min(e.length, map.size - covered);
          if (length == 0) break;
          append_merged(map.extents, {covered, length, e.flags});
          covered += length;
        }
        return 0;
      });
    });
    // The answer may cover less than asked: the next request starts at the
    // first uncovered offset (S-BS-047). No progress at all would loop forever.
    if (covered == start) {
      throw StepError("reading block status at offset " + std::to_string(start) +
                      ": the server's answer has no extent for " + context);
    }
  }
  return map;
}

}  // namespace nbdref::info
