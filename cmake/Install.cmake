# cmake --install: the shared and static library, the C++ headers, the
# libnbd-compatible header (in its own folder, so it never shadows Debian's
# libnbd.h), a CMake package (find_package(nbdref)) and two pkg-config files:
# nbdref.pc for the C++ API and nbdref-libnbd.pc for unchanged libnbd
# programs. There is deliberately no libnbd.pc.

include(CMakePackageConfigHelpers)

install(TARGETS nbdref EXPORT nbdrefTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES ${NBDREF_STATIC_ARCHIVE} DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/client/include/nbdref
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_SOURCE_DIR}/client/compat/libnbd.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/nbdref-libnbd)

# What a program linking libnbdref.a needs besides it: libxml2 for URIs.
set(NBDREF_STATIC_DEPS "")
set(NBDREF_PC_DEPS "")
if(NBDREF_URI)
  string(APPEND NBDREF_STATIC_DEPS ";xml2")
  string(APPEND NBDREF_PC_DEPS " -lxml2")
endif()
# ... and GnuTLS for TLS.
if(NBDREF_TLS)
  string(APPEND NBDREF_STATIC_DEPS ";gnutls")
  string(APPEND NBDREF_PC_DEPS " -lgnutls")
endif()

set(NBDREF_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/nbdref)
install(EXPORT nbdrefTargets NAMESPACE nbdref:: DESTINATION ${NBDREF_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/packaging/nbdrefConfig.cmake.in
  ${PROJECT_BINARY_DIR}/nbdrefConfig.cmake INSTALL_DESTINATION ${NBDREF_CMAKE_DIR}
  PATH_VARS CMAKE_INSTALL_LIBDIR)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/nbdrefConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/nbdrefConfig.cmake ${PROJECT_BINARY_DIR}/nbdrefConfigVersion.cmake
  DESTINATION ${NBDREF_CMAKE_DIR})

# Relocatable: the prefix is found from where the .pc file lies, so
# `cmake --install --prefix ANYWHERE` gives working files.
file(RELATIVE_PATH NBDREF_PC_PREFIX /root/${CMAKE_INSTALL_LIBDIR}/pkgconfig /root)
foreach(pc nbdref nbdref-libnbd)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/packaging/${pc}.pc.in ${PROJECT_BINARY_DIR}/${pc}.pc
    @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/${pc}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()
