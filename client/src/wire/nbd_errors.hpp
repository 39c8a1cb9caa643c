// Translation between the protocol's error values (proto.md "Error values")
// and the host's errno numbers.
#pragma once

#include <cstdint>

namespace nbdref::wire {

// The errno for an error a server sent; values outside the defined set are
// treated as NBD_EINVAL rather than ending the connection (C-ERR-001).
int errno_from_nbd_error(std::uint32_t nbd_error);

// The protocol value a server should send for a host errno: the defined
// values map to themselves, EDQUOT and EFBIG to NBD_ENOSPC (S-ERR-004),
// anything else to NBD_EIO.
std::uint32_t nbd_error_from_errno(int err);

}  // namespace nbdref::wire
