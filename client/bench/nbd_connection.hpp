// One handle of the library under test, connected to an NBD URI, shut down
// and closed on destruction. Written against the libnbd C API only, so the
// same code measures libnbd and nbdref.
#pragma once

#include <libnbd.h>

#include <cstdint>
#include <string>

namespace nbdref::bench {

class NbdConnection {
 public:
  // Connects; throws std::runtime_error with the library's message.
  explicit NbdConnection(const std::string& uri);
  ~NbdConnection();
  NbdConnection(const NbdConnection&) = delete;
  NbdConnection& operator=(const NbdConnection&) = delete;

  nbd_handle* get() const { return handle_; }
  std::uint64_t size() const;
  bool can_multi_conn() const;
  bool read_only() const;

 private:
  nbd_handle* handle_;
};

// Throws std::runtime_error: "CALL: " and the library's message for this
// thread's last error.
[[noreturn]] void throw_nbd_error(const char* call);

// The library's name and version ("libnbd 1.14.2", "nbdref 0.1.0").
std::string library_name(nbd_handle* handle);
std::string library_version(nbd_handle* handle);

}  // namespace nbdref::bench
