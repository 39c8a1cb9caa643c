// The metadata context names the fuzz targets' clients ask for, and their
// scripted servers, the seed recorder and the stream mutator answer with:
// the one list all of them take the names from. Fuzz input bytes
// select entries by index or take the first n (a two-bit count in the
// handshake and transmission targets), so the order and the length are part
// of what every seed under corpus/ means.
#pragma once

namespace nbdref::fuzz {

// Null-terminated: client_socket.cpp hands them to the C API.
inline constexpr const char* META_CONTEXT_NAMES[] = {
    "base:allocation",
    "qemu:dirty-bitmap:bitmap0",
    "qemu:allocation-depth",
};

}  // namespace nbdref::fuzz
