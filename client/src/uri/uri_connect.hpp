// Connecting a handle by NBD URI, shared by the C and C++ APIs (and built
// into the API layer, above the handle, only with NBDREF_URI): the handle's
// URI policy is checked, the URI's settings applied, and the connector for
// its address made; and the other way, the URI of a connection.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "error/error.hpp"
#include "handle/handle.hpp"
#include "transport/connector.hpp"
#include "uri/nbd_uri.hpp"

namespace nbdref::uri {

// Nothing but a newly created handle connects (nbd_connect_uri(3) "HANDLE
// STATE"); EINVAL otherwise, as the handle's own connect calls say it.
Result<void> need_new_handle(const handle::Handle& h);

// For a handle not yet connected: refuses `uri` with EPERM when the handle's
// uri_allow_transports, uri_allow_tls or uri_allow_local_file settings
// forbid what it asks for, and with ENOTSUP when it needs TLS and
// `tls_supported` is false; otherwise sets the handle's export name and
// TLS settings from it and returns the connector for its address, ready for
// Handle::connect() or Handle::start_connect().
Result<std::unique_ptr<transport::Connector>> prepare_uri_connect(handle::Handle& h,
                                                                  const NbdUri& uri,
                                                                  bool tls_supported);

// The connector for the address `uri` names (TCP, Unix socket or vsock).
std::unique_ptr<transport::Connector> connector_for(const NbdUri& uri);

// A URI that reaches the server `h` is connected to (or connecting to, or
// was connected to): the transport and address of `endpoint`, which the
// caller recorded when it connected, with the handle's current export name
// and TLS settings. Fails with ENOTCONN for a handle that has not started
// connecting, with ENOTSUP when there is no endpoint (the handle was given a
// socket or a command, which no URI can name), and with EINVAL when a part
// cannot be written in a URI (a TCP port given as a service name).
Result<std::string> connection_uri(const handle::Handle& h, const std::optional<NbdUri>& endpoint);

}  // namespace nbdref::uri
