#include "wire/nbd_errors.hpp"

#include <cerrno>

#include <gtest/gtest.h>

#include "wire/constants.hpp"

namespace nbdref::wire {
namespace {

TEST(NbdErrors, DefinedValuesMapToErrno) {
  EXPECT_EQ(errno_from_nbd_error(NBD_EPERM), EPERM);
  EXPECT_EQ(errno_from_nbd_error(NBD_EIO), EIO);
  EXPECT_EQ(errno_from_nbd_error(NBD_ENOMEM), ENOMEM);
  EXPECT_EQ(errno_from_nbd_error(NBD_EINVAL), EINVAL);
  EXPECT_EQ(errno_from_nbd_error(NBD_ENOSPC), ENOSPC);
  EXPECT_EQ(errno_from_nbd_error(NBD_EOVERFLOW), EOVERFLOW);
  EXPECT_EQ(errno_from_nbd_error(NBD_ENOTSUP), ENOTSUP);
  EXPECT_EQ(errno_from_nbd_error(NBD_ESHUTDOWN), ESHUTDOWN);
}

// C-ERR-001 (proto.md "Error values"): unknown values read as NBD_EINVAL.
TEST(NbdErrors, UnknownValuesReadAsEinval) {
  EXPECT_EQ(errno_from_nbd_error(2), EINVAL);
  EXPECT_EQ(errno_from_nbd_error(0xffffffff), EINVAL);
}

TEST(NbdErrors, ServerSideMapping) {
  EXPECT_EQ(nbd_error_from_errno(EDQUOT), NBD_ENOSPC);  // S-ERR-004
  EXPECT_EQ(nbd_error_from_errno(EFBIG), NBD_ENOSPC);
  EXPECT_EQ(nbd_error_from_errno(EROFS), NBD_EIO);
  EXPECT_EQ(nbd_error_from_errno(EPERM), NBD_EPERM);
}

}  // namespace
}  // namespace nbdref::wire
