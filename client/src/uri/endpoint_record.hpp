// Where a handle was asked to connect, for get_uri: the handle keeps only
// the open socket, so the API layers record the address (and, for a URI
// connection, the URI's model) here when a connect call starts. Header-only,
// so builds without URI support can keep one too.
#pragma once

#include <mutex>
#include <optional>

#include "handle/handle.hpp"
#include "uri/nbd_uri.hpp"

namespace nbdref::uri {

class EndpointRecord {
 public:
  // Keeps `where` when `h` is still newly created: a connect call on a used
  // handle fails, and must not replace the address it really connected to.
  void remember(const handle::Handle& h, NbdUri where) {
    if (h.state() != handle::HandleState::Created) return;
    std::lock_guard lock(mutex_);
    where_ = std::move(where);
  }
  std::optional<NbdUri> get() const {
    std::lock_guard lock(mutex_);
    return where_;
  }

 private:
  mutable std::mutex mutex_;
  std::optional<NbdUri> where_;
};

}  // namespace nbdref::uri
