// Connection pairs, slices, threads and measurement of a copy.
#include "copy_run.hpp"

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "connection_threads.hpp"
#include "copy_share.hpp"
#include "nbd_connection.hpp"
#include "resource_meter.hpp"

namespace nbdref::bench {
namespace {

using Connections = std::vector<std::unique_ptr<NbdConnection>>;

Connections connect_all(const std::string& uri, unsigned count) {
  Connections connections;
  for (unsigned i = 0; i < count; ++i) connections.push_back(std::make_unique<NbdConnection>(uri));
  return connections;
}

void check_multi_conn(const Connections& connections, const char* side) {
  if (connections.size() < 2) return;
  for (const auto& c : connections) {
    if (!c->can_multi_conn()) {
      throw std::runtime_error(std::string("the ") + side +
                               " server does not offer multi-conn "
                               "(NBD_FLAG_CAN_MULTI_CONN): --connections must be 1");
    }
  }
}

// Slice i of [0, size): whole blocks, the last slice to the end.
CopyRange slice(std::uint64_t size, std::uint64_t block_size, unsigned count, unsigned i) {
  const std::uint64_t blocks = (size + block_size - 1) / block_size;
  const std::uint64_t per_slice = blocks / count;
  const std::uint64_t begin = i * per_slice * block_size;
  const std::uint64_t end = i + 1 == count ? size : begin + per_slice * block_size;
  return {begin, end};
}

}  // namespace

RunFigures run_copy(const BenchOptions& o) {
  const Connections sources = connect_all(o.copy_source, o.connections);
  const Connections destinations = connect_all(o.copy_destination, o.connections);
  check_multi_conn(sources, "source");
  check_multi_conn(destinations, "destination");
  const std::uint64_t size = sources[0]->size();
  if (destinations[0]->size() < size) {
    throw std::runtime_error("the destination (" + std::to_string(destinations[0]->size()) +
                             " bytes) is smaller than the source (" + std::to_string(size) +
                             " bytes)");
  }
  if (destinations[0]->read_only()) throw std::runtime_error("the destination is read-only");
  if ((size + o.block_size - 1) / o.block_size < o.connections) {
    throw std::runtime_error("the source holds fewer blocks than there are connections");
  }

  std::vector<ShareTally> tallies(o.connections);
  const ResourceMeter meter;
  run_per_connection(o.connections, [&](unsigned i) {
    tallies[i] =
        run_copy_share(sources[i]->get(), destinations[i]->get(),
                       slice(size, o.block_size, o.connections, i), o.block_size, o.in_flight);
  });
  RunFigures figures;
  figures.use = meter.elapsed();

  figures.library = library_name(sources[0]->get());
  figures.version = library_version(sources[0]->get());
  figures.mode = RunMode::Copy;
  figures.options = o;
  for (const ShareTally& t : tallies) {
    figures.requests += t.requests;
    figures.bytes += t.bytes;
  }
  return figures;
}

}  // namespace nbdref::bench
