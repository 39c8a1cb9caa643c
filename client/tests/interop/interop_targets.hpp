// The real servers the interop tests run against, each started once per
// test process and described by what it was started with -- which is what
// the client must report back.
#pragma once

#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

#include "support/endpoint.hpp"

namespace nbdref::test {

// What a server advertises given how the tests start it. Each value follows
// from the server's command line or configuration; see interop_targets.cpp.
struct ExpectedFlags {
  bool read_only = false;
  bool flush = false;
  bool fua = false;
  bool trim = false;
  bool zero = false;
  bool fast_zero = false;
  bool df = false;
  bool multi_conn = false;
  bool cache = false;
  bool structured_replies = false;
  bool base_allocation = false;     // answers SET_META_CONTEXT for base:allocation
  std::uint32_t minimum_block = 0;  // 0: no NBD_INFO_BLOCK_SIZE
  // The errno of a write the server itself refuses on a read-only export.
  // S-ERR-008 recommends NBD_EPERM; where a server differs it is recorded
  // here with the reason, in interop_targets.cpp.
  int read_only_write_errno = EPERM;
};

struct InteropTarget {
  std::string name;  // gtest parameter name, e.g. "NbdkitUnix"
  Endpoint endpoint;
  std::string export_name;
  std::uint64_t size = 0;
  ExpectedFlags expect;
};

// What the named target advertises (without starting it).
ExpectedFlags expected_flags(const std::string& name);
// The target names whose flags satisfy `wanted`, for INSTANTIATE_TEST_SUITE_P:
// a test that needs a feature runs only where the feature exists.
std::vector<std::string> interop_target_names(bool (*wanted)(const ExpectedFlags&) = nullptr);
// The named target, its server started on first use (from the main thread).
const InteropTarget& interop_target(const std::string& name);

}  // namespace nbdref::test
