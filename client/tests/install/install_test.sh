#!/usr/bin/env bash
# Installs the build into a temporary prefix, then builds programs against
# the installed tree the two ways users do: find_package(nbdref) in a CMake
# project, and an unchanged libnbd C program with
#   cc prog.c $(pkg-config --cflags --libs nbdref-libnbd)
# Usage: install_test.sh BUILD_DIR SOURCE_DIR CC CXX "SANITIZER_FLAGS"
set -euo pipefail
build=$1 source=$2 cc=$3 cxx=$4 sanitize=${5:-}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(ls -d "$prefix"/lib*/ | head -1)
test -f "$libdir/libnbdref.so" || { echo "no shared library installed"; exit 1; }
test -f "$libdir/libnbdref.a" || { echo "no static library installed"; exit 1; }
test -f "$prefix/include/nbdref/client.hpp" || { echo "no C++ header installed"; exit 1; }
test -f "$prefix/include/nbdref-libnbd/libnbd.h" || { echo "no libnbd.h installed"; exit 1; }
if find "$prefix" -name libnbd.pc | grep -q .; then
  echo "a libnbd.pc was installed: it would shadow Debian's"; exit 1
fi

# find_package(nbdref), shared and static.
cmake -S "$source/client/tests/install/external" -B "$work/consumer" \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_CXX_FLAGS="$sanitize" -DCMAKE_EXE_LINKER_FLAGS="$sanitize" >/dev/null
cmake --build "$work/consumer" >/dev/null
LD_LIBRARY_PATH="$libdir" "$work/consumer/consumer_shared"
"$work/consumer/consumer_static"

# An unchanged libnbd program through pkg-config. The C++ driver links, so
# a sanitizer build gets the sanitizers' C++ runtime.
export PKG_CONFIG_PATH="$libdir/pkgconfig"
flags=$(pkg-config --cflags nbdref-libnbd)
libs=$(pkg-config --libs nbdref-libnbd)
"$cc" $sanitize $flags -c "$source/client/tests/capi/libnbd_sync_program.c" -o "$work/prog.o"
"$cxx" $sanitize "$work/prog.o" $libs -o "$work/prog"
LD_LIBRARY_PATH="$libdir" "$work/prog" command nbdkit -s --exit-with-parent memory 64M | tail -1
echo "installed tree works"
