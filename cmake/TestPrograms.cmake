# nbdref_add_test(): how every test directory (client, mock server,
# conformance, fuzz mutator, benchmarks) builds a GoogleTest program and
# registers each of its cases with ctest, each with a timeout.
#
#   nbdref_add_test(<name> SOURCES <file>... [LIBS <target>...] [TIMEOUT <seconds>])
#
# TIMEOUT is per case, 60 s unless given. The sources include their tree's
# headers by paths from NBDREF_TEST_INCLUDE_DIR: client/tests (the shared
# test support, support/*.hpp) unless a directory sets it for itself and the
# directories below it, as mockserver/tests does.

set(NBDREF_TEST_INCLUDE_DIR ${PROJECT_SOURCE_DIR}/client/tests)

function(nbdref_add_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 60)
  endif()
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_include_directories(${name} PRIVATE ${NBDREF_TEST_INCLUDE_DIR})
  gtest_discover_tests(${name} PROPERTIES TIMEOUT ${T_TIMEOUT} DISCOVERY_TIMEOUT 60)
endfunction()
