#include "server/export_config.hpp"

#include <algorithm>

#include "wire/constants.hpp"
#include "wire/limits.hpp"

namespace nbdref::mock {

using namespace wire;

bool ExportConfig::advertises_block_sizes() const {
  return minimum_block != 0 || preferred_block != 0 || maximum_payload != 0;
}

InfoBlockSize ExportConfig::block_sizes() const {
  constexpr std::uint32_t DEFAULT_PREFERRED = 4096;
  InfoBlockSize s;
  s.minimum = minimum_block != 0 ? minimum_block : 1;
  // S-SZ-011, S-SZ-013: defaults must still respect the sizes that were set.
  s.preferred = preferred_block != 0 ? preferred_block : std::max(DEFAULT_PREFERRED, s.minimum);
  s.maximum = maximum_payload != 0
                  ? maximum_payload
                  : std::max(static_cast<std::uint32_t>(DEFAULT_MAX_PAYLOAD), s.preferred);
  return s;
}

std::uint16_t ExportConfig::transmission_flags(bool reply_payloads) const {
  std::uint16_t f = NBD_FLAG_HAS_FLAGS;  // S-TX-015
  if (read_only) f |= NBD_FLAG_READ_ONLY;
  if (flush) f |= NBD_FLAG_SEND_FLUSH;
  if (fua) f |= NBD_FLAG_SEND_FUA;
  if (rotational) f |= NBD_FLAG_ROTATIONAL;
  if (trim) f |= NBD_FLAG_SEND_TRIM;
  if (write_zeroes) f |= NBD_FLAG_SEND_WRITE_ZEROES;
  // S-TX-019, X-S-009: DF only once replies can carry chunks.
  if (df && reply_payloads) f |= NBD_FLAG_SEND_DF;
  if (multi_conn) f |= NBD_FLAG_CAN_MULTI_CONN;
  if (cache) f |= NBD_FLAG_SEND_CACHE;
  // S-TX-023: fast zero only alongside write zeroes.
  if (fast_zero && write_zeroes) f |= NBD_FLAG_SEND_FAST_ZERO;
  return f;
}

}  // namespace nbdref::mock
