// The extent map of a whole export for one metadata context: the context is
// selected on the way into transmission, then NBD_CMD_BLOCK_STATUS walks the
// export from offset 0 to the end.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nbdref/client.hpp>

namespace nbdref::info {

struct ExtentMap {
  std::string export_name;
  std::string context;
  std::uint64_t size = 0;
  // In order, covering [0, size) exactly; neighbours never have equal flags.
  std::vector<Extent> extents;
};

// `client` is connected in option mode (or already in transmission, when
// the server's handshake had no option phase). Throws StepError when the
// export does not offer `context`, a request fails, or the server's answers
// do not move the walk forward.
ExtentMap map_extents(Client& client, const std::string& export_name, const std::string& context);

}  // namespace nbdref::info
