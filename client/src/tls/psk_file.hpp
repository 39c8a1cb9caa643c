// The pre-shared keys file psktool(1) writes: one "username:hexkey" line
// per user. The client needs only the key of its own user.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "error/error.hpp"

namespace nbdref::tls {

// The longest key psktool accepts (--keysize goes up to 512 bytes).
inline constexpr std::size_t MAX_PSK_KEY_BYTES = 512;

// The key of `username` in the text of a PSK file, decoded from hex. Fails
// with EINVAL for an empty username, ENOENT when no line is for that user,
// and EINVAL, naming the line, when that user's key is empty, longer than
// MAX_PSK_KEY_BYTES or not an even number of hex digits. `file` names the
// file in messages.
Result<std::vector<std::uint8_t>> find_psk_key(std::string_view text, std::string_view username,
                                               std::string_view file);

// The same, reading the file first (fails with the errno of opening it).
Result<std::vector<std::uint8_t>> read_psk_key(const std::string& path, std::string_view username);

}  // namespace nbdref::tls
