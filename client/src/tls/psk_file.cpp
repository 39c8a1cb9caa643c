#include "tls/psk_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "transport/unique_fd.hpp"
#include "wire/hex_digit.hpp"

namespace nbdref::tls {

Result<std::vector<std::uint8_t>> find_psk_key(std::string_view text, std::string_view username,
                                               std::string_view file) {
  const std::string where(file);
  if (username.empty()) return failure(EINVAL, "the TLS username is empty");
  std::size_t line_number = 0;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    // A line is the user's when the name is followed by the colon, which
    // also lets a name contain colons of its own (GnuTLS matches the same way).
    if (line.size() <= username.size() || line.substr(0, username.size()) != username ||
        line[username.size()] != ':') {
      continue;
    }
    const std::string_view hex = line.substr(username.size() + 1);
    const std::string at = where + " line " + std::to_string(line_number);
    if (hex.empty())
      return failure(EINVAL, at + ": the key of '" + std::string(username) + "' is empty");
    if (hex.size() % 2 != 0) {
      return failure(EINVAL, at + ": the key has an odd number of hex digits");
    }
    if (hex.size() / 2 > MAX_PSK_KEY_BYTES) {
      return failure(
          EINVAL, at + ": the key is longer than " + std::to_string(MAX_PSK_KEY_BYTES) + " bytes");
    }
    std::vector<std::uint8_t> key;
    key.reserve(hex.size() / 2);
    for (std::size_t i = 0; i < hex.size(); i += 2) {
      const int high = wire::hex_digit_value(hex[i]);
      const int low = wire::hex_digit_value(hex[i + 1]);
      if (high < 0 || low < 0) return failure(EINVAL, at + ": the key is not hexadecimal");
      key.push_back(static_cast<std::uint8_t>(high << 4 | low));
    }
    return key;
  }
  return failure(ENOENT, where + " has no key for TLS username '" + std::string(username) +
                             "' (see set_tls_username)");
}

Result<std::vector<std::uint8_t>> read_psk_key(const std::string& path, std::string_view username) {
  const std::string what = "the TLS PSK file " + path;
  transport::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    const int err = errno;
    return failure(err, with_strerror("cannot open " + what, err));
  }
  // A key file holds a few short lines; a huge one is not a key file.
  constexpr std::size_t MAX_FILE_BYTES = 1 << 20;
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      return failure(err, with_strerror("cannot read " + what, err));
    }
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > MAX_FILE_BYTES) {
      return failure(EFBIG, what + " is larger than " + std::to_string(MAX_FILE_BYTES) + " bytes");
    }
  }
  return find_psk_key(text, username, what);
}

}  // namespace nbdref::tls
