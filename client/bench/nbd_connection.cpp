// Connecting, querying and closing a handle through the C API.
#include "nbd_connection.hpp"

#include <stdexcept>

namespace nbdref::bench {

void throw_nbd_error(const char* call) {
  const char* message = nbd_get_error();
  throw std::runtime_error(std::string(call) + ": " + (message ? message : "(no message)"));
}

NbdConnection::NbdConnection(const std::string& uri) : handle_(nbd_create()) {
  if (handle_ == nullptr) throw_nbd_error("nbd_create");
  // The URI may name local files (a TLS pre-shared key: tls-psk-file).
  if (nbd_set_uri_allow_local_file(handle_, true) == -1) {
    throw_nbd_error("nbd_set_uri_allow_local_file");
  }
  if (nbd_connect_uri(handle_, uri.c_str()) == -1) {
    const std::string what = std::string("nbd_connect_uri ") + uri;
    const char* message = nbd_get_error();
    const std::string text = what + ": " + (message ? message : "(no message)");
    nbd_close(handle_);
    throw std::runtime_error(text);
  }
}

NbdConnection::~NbdConnection() {
  // NBD_CMD_DISC, so the server sees an orderly end; nothing is in flight.
  nbd_shutdown(handle_, 0);
  nbd_close(handle_);
}

std::uint64_t NbdConnection::size() const {
  const std::int64_t size = nbd_get_size(handle_);
  if (size < 0) throw_nbd_error("nbd_get_size");
  return static_cast<std::uint64_t>(size);
}

bool NbdConnection::can_multi_conn() const {
  const int r = nbd_can_multi_conn(handle_);
  if (r < 0) throw_nbd_error("nbd_can_multi_conn");
  return r == 1;
}

bool NbdConnection::read_only() const {
  const int r = nbd_is_read_only(handle_);
  if (r < 0) throw_nbd_error("nbd_is_read_only");
  return r == 1;
}

std::string library_name(nbd_handle* handle) {
  return nbd_get_package_name(handle);
}

std::string library_version(nbd_handle* handle) {
  return nbd_get_version(handle);
}

}  // namespace nbdref::bench
