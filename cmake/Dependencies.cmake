# Third-party packages, all from Debian's archive (see ci/setup.sh for the package names).

find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(GTest REQUIRED)

# tl::expected (libexpected-dev) is header-only.
find_path(TL_EXPECTED_INCLUDE_DIR tl/expected.hpp REQUIRED)
add_library(tl_expected INTERFACE)
target_include_directories(tl_expected SYSTEM INTERFACE ${TL_EXPECTED_INCLUDE_DIR})

if(NBDREF_TLS)
  pkg_check_modules(GNUTLS REQUIRED IMPORTED_TARGET gnutls>=3.7)
endif()
if(NBDREF_URI)
  pkg_check_modules(LIBXML2 REQUIRED IMPORTED_TARGET libxml-2.0>=2.9)
endif()

# libnbd is a peer, never linked into nbdref: tests build programs against it
# to compare behaviour, and compare compat/libnbd.h with its header.
pkg_check_modules(LIBNBD REQUIRED IMPORTED_TARGET libnbd)

# Real NBD peers used by the interop tests. They are programs, never linked.
find_program(NBDKIT_PROGRAM nbdkit)
find_program(QEMU_NBD_PROGRAM qemu-nbd)
find_program(NBD_SERVER_PROGRAM nbd-server PATHS /usr/bin /bin /usr/sbin /sbin)
