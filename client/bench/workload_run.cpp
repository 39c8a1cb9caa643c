// Connections, shares, threads and measurement of a read or write workload.
#include "workload_run.hpp"

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "async_share.hpp"
#include "connection_threads.hpp"
#include "latency_summary.hpp"
#include "nbd_connection.hpp"
#include "offset_sequence.hpp"
#include "resource_meter.hpp"
#include "sync_share.hpp"
#include "workload_share.hpp"

namespace nbdref::bench {
namespace {

using Clock = std::chrono::steady_clock;

void check_export(const BenchOptions& o, const std::vector<std::unique_ptr<NbdConnection>>& c) {
  const std::uint64_t size = c[0]->size();
  if (size / o.block_size < o.connections) {
    throw std::runtime_error("the export (" + std::to_string(size) + " bytes) holds fewer than " +
                             std::to_string(o.connections) + " blocks of " +
                             std::to_string(o.block_size) + " bytes");
  }
  if (o.op == Operation::Write && c[0]->read_only()) {
    throw std::runtime_error("the export is read-only; a write workload needs a writable one");
  }
  if (o.connections > 1) {
    for (const auto& connection : c) {
      if (!connection->can_multi_conn()) {
        throw std::runtime_error(
            "the server does not offer multi-conn (NBD_FLAG_CAN_MULTI_CONN): "
            "--connections must be 1");
      }
    }
  }
}

WorkloadShare share_of(const BenchOptions& o, std::uint64_t export_size, unsigned i,
                       Clock::time_point deadline) {
  const std::uint64_t blocks = export_size / o.block_size;
  const bool sequential = o.pattern == AccessPattern::Sequential;
  // Sequential access: consecutive slices, so the connections never meet.
  const std::uint64_t share_blocks = sequential ? blocks / o.connections : blocks;
  const std::uint64_t begin = sequential ? i * share_blocks * o.block_size : 0;
  std::optional<std::uint64_t> requests;
  if (o.bytes) {
    const std::uint64_t total = *o.bytes / o.block_size;
    requests = total / o.connections + (i < total % o.connections ? 1 : 0);
  }
  return WorkloadShare{
      o.op,         OffsetSequence(o.pattern, begin, share_blocks, o.block_size, o.seed + i),
      o.block_size, requests,
      deadline,     o.verify};
}

}  // namespace

RunFigures run_workload(const BenchOptions& o) {
  std::vector<std::unique_ptr<NbdConnection>> connections;
  for (unsigned i = 0; i < o.connections; ++i) {
    connections.push_back(std::make_unique<NbdConnection>(o.uri));
  }
  check_export(o, connections);
  const std::uint64_t export_size = connections[0]->size();

  std::vector<ShareTally> tallies(o.connections);
  std::vector<std::vector<std::uint64_t>> latencies(o.synchronous ? o.connections : 0);
  for (auto& l : latencies) l.reserve(std::size_t{1} << 18);

  const ResourceMeter meter;
  const auto deadline = meter.started() + std::chrono::duration_cast<Clock::duration>(
                                              std::chrono::duration<double>(o.seconds));
  run_per_connection(o.connections, [&](unsigned i) {
    WorkloadShare share = share_of(o, export_size, i, deadline);
    nbd_handle* handle = connections[i]->get();
    tallies[i] = o.synchronous ? run_sync_share(handle, std::move(share), latencies[i])
                               : run_async_share(handle, std::move(share), o.in_flight);
  });
  RunFigures figures;
  figures.use = meter.elapsed();

  figures.library = library_name(connections[0]->get());
  figures.version = library_version(connections[0]->get());
  figures.mode = o.synchronous ? RunMode::Sync : RunMode::Async;
  figures.options = o;
  for (const ShareTally& t : tallies) {
    figures.requests += t.requests;
    figures.bytes += t.bytes;
  }
  if (o.synchronous && figures.requests > 0) {
    std::vector<std::uint64_t> all;
    for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
    figures.latency = summarize_latencies(all);
  }
  return figures;
}

}  // namespace nbdref::bench
