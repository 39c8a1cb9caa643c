# Warnings, sanitizers and the fuzzing instrumentation shared by every target.

add_compile_options(-Wall -Wextra -Wshadow -Wcast-align -Wformat=2 -Wimplicit-fallthrough
                    $<$<COMPILE_LANGUAGE:CXX>:-Wnon-virtual-dtor>)
if(NBDREF_WERROR)
  add_compile_options(-Werror)
endif()

if(NBDREF_SANITIZE)
  # Every test doubles as a memory-safety test: abort on the first report.
  set(NBDREF_SANITIZER_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all
                             -fno-omit-frame-pointer)
  add_compile_options(${NBDREF_SANITIZER_FLAGS})
  add_link_options(${NBDREF_SANITIZER_FLAGS})
  # For programs built outside CMake's view (the install test).
  string(JOIN " " NBDREF_SANITIZER_FLAGS_STRING ${NBDREF_SANITIZER_FLAGS})
endif()

# OSS-Fuzz and ClusterFuzzLite (fuzz/build.sh) pass their engine's link flags
# ($LIB_FUZZING_ENGINE) here and their instrumentation in CFLAGS/CXXFLAGS.
set(NBDREF_FUZZ_ENGINE "" CACHE STRING
    "With NBDREF_FUZZ: link flags of an external fuzzing engine, whose coverage and sanitizer flags then come from CFLAGS/CXXFLAGS (empty: clang's libFuzzer, instrumented here)")

if(NBDREF_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "NBDREF_FUZZ needs clang (configure with CXX=clang++ CC=clang)")
  endif()
  if(NOT NBDREF_FUZZ_ENGINE)
    # Coverage instrumentation for the library too, so libFuzzer sees inside the parsers.
    add_compile_options(-fsanitize=fuzzer-no-link)
    if(NOT NBDREF_SANITIZE)
      add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer)
      add_link_options(-fsanitize=address,undefined)
    endif()
  endif()
endif()
