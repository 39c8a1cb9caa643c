#include "interop_targets.hpp"

#include <map>
#include <memory>
#include <stdexcept>

#include "support/nbd_server_daemon.hpp"
#include "support/nbdkit_server.hpp"
#include "support/qemu_nbd_server.hpp"

namespace nbdref::test {
namespace {

constexpr std::uint64_t kSize = std::uint64_t{64} << 20;

// nbdkit 1.32's memory plugin supports every command (flush, FUA, trim,
// zero, fast zero, cache), answers DF reads, is safe for multi-conn and
// serves base:allocation. No NBD_INFO_BLOCK_SIZE. With -r the writing
// commands, and FUA with them, disappear.
ExpectedFlags nbdkit_memory(bool read_only) {
  ExpectedFlags f;
  f.read_only = read_only;
  f.flush = f.df = f.multi_conn = f.cache = true;
  f.fua = f.trim = f.zero = f.fast_zero = !read_only;
  f.structured_replies = f.base_allocation = true;
  return f;
}

// qemu-nbd 7.2 on a raw file: the same feature set; multi-conn because -e 8
// shares the export; block sizes 1/4096/32M. -r drops the writing commands
// but keeps FUA. qemu-nbd refuses writes to a read-only export with
// NBD_EINVAL ("Export is read-only"), not the NBD_EPERM of S-ERR-008.
ExpectedFlags qemu_raw(bool read_only) {
  ExpectedFlags f = nbdkit_memory(read_only);
  f.fua = true;
  f.minimum_block = 1;
  f.read_only_write_errno = EINVAL;
  return f;
}

// nbd-server 3.24: flush/fua/trim only when configured (the tests configure
// all three on the writable export), WRITE_ZEROES always -- even on a
// read-only export --, multi-conn, no structured replies, hence no DF, no
// block status, no cache, no fast zero.
ExpectedFlags nbd_server(bool read_only) {
  ExpectedFlags f;
  f.read_only = read_only;
  f.flush = f.fua = f.trim = !read_only;
  f.zero = true;
  f.multi_conn = true;
  return f;
}

struct Running {
  std::unique_ptr<NbdkitServer> nbdkit;
  std::unique_ptr<QemuNbdServer> qemu;
  std::unique_ptr<NbdServerDaemon> daemon;
  InteropTarget target;
};

InteropTarget start(const std::string& name, Running& r) {
  const auto transport =
      name.find("Tcp") != std::string::npos ? Transport::Tcp : Transport::UnixSocket;
  const bool ro = name.find("ReadOnly") != std::string::npos;
  const ExpectedFlags expect = expected_flags(name);
  if (name.rfind("Nbdkit", 0) == 0) {
    NbdkitServer::Options o;
    o.read_only = ro;
    o.transport = transport;
    r.nbdkit = std::make_unique<NbdkitServer>(o);
    return {name, r.nbdkit->endpoint(), "", kSize, expect};
  }
  if (name.rfind("QemuNbd", 0) == 0) {
    QemuNbdServer::Options o;
    o.read_only = ro;
    o.discard = true;
    o.transport = transport;
    r.qemu = std::make_unique<QemuNbdServer>(o);
    return {name, r.qemu->endpoint(), "disk", kSize, expect};
  }
  NbdServerDaemon::Options o;
  o.transport = transport;
  NbdServerDaemon::Export e;
  e.name = ro ? "ro" : "disk";
  e.read_only = ro;
  e.trim = e.flush = e.fua = !ro;
  o.exports = {e};
  r.daemon = std::make_unique<NbdServerDaemon>(o);
  return {name, r.daemon->endpoint(), e.name, kSize, expect};
}

}  // namespace

ExpectedFlags expected_flags(const std::string& name) {
  const bool ro = name.find("ReadOnly") != std::string::npos;
  if (name.rfind("Nbdkit", 0) == 0) return nbdkit_memory(ro);
  if (name.rfind("QemuNbd", 0) == 0) return qemu_raw(ro);
  return nbd_server(ro);
}

std::vector<std::string> interop_target_names(bool (*wanted)(const ExpectedFlags&)) {
  std::vector<std::string> out;
  for (const char* name :
       {"NbdkitUnix", "NbdkitTcp", "NbdkitReadOnly", "QemuNbdUnix", "QemuNbdTcp", "QemuNbdReadOnly",
        "NbdServerTcp", "NbdServerUnix", "NbdServerReadOnly"}) {
    if (!wanted || wanted(expected_flags(name))) out.emplace_back(name);
  }
  return out;
}

const InteropTarget& interop_target(const std::string& name) {
  static std::map<std::string, Running> running;
  auto it = running.find(name);
  if (it == running.end()) {
    it = running.emplace(name, Running{}).first;
    it->second.target = start(name, it->second);
  }
  return it->second.target;
}

}  // namespace nbdref::test
