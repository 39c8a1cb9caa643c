#include "wire/nbd_errors.hpp"

#include <cerrno>

#include "wire/constants.hpp"

namespace nbdref::wire {

int errno_from_nbd_error(std::uint32_t nbd_error) {
  switch (nbd_error) {
    case NBD_EPERM:
      return EPERM;
    case NBD_EIO:
      return EIO;
    case NBD_ENOMEM:
      return ENOMEM;
    case NBD_EINVAL:
      return EINVAL;
    case NBD_ENOSPC:
      return ENOSPC;
    case NBD_EOVERFLOW:
      return EOVERFLOW;
    case NBD_ENOTSUP:
      return ENOTSUP;
    case NBD_ESHUTDOWN:
      return ESHUTDOWN;
    default:
      return EINVAL;  // C-ERR-001 (proto.md "Error values")
  }
}

std::uint32_t nbd_error_from_errno(int err) {
  switch (err) {
    case EPERM:
      return NBD_EPERM;
    case EIO:
      return NBD_EIO;
    case ENOMEM:
      return NBD_ENOMEM;
    case EINVAL:
      return NBD_EINVAL;
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      return NBD_ENOSPC;  // S-ERR-004 (proto.md "Error values")
    case EOVERFLOW:
      return NBD_EOVERFLOW;
    case ENOTSUP:
      return NBD_ENOTSUP;
    case ESHUTDOWN:
      return NBD_ESHUTDOWN;
    default:
      return NBD_EIO;
  }
}

}  // namespace nbdref::wire
