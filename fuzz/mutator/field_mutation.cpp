#include "mutator/field_mutation.hpp"

#include <vector>

#include "wire/constants.hpp"
#include "wire/limits.hpp"

namespace nbdref::fuzz::mutator {
namespace {

using namespace nbdref::wire;
using R = FieldRole;
using Values = std::vector<std::uint64_t>;

#define NBDREF_VALUE(name, value) std::uint64_t{value},
const Values OPTIONS{NBDREF_OPTIONS(NBDREF_VALUE) 0, 12, 0xffffffff};
const Values OPTION_REPLIES{NBDREF_OPTION_REPLIES(NBDREF_VALUE) 0, 5, NBD_REP_FLAG_ERROR,
                            NBD_REP_FLAG_ERROR + 11, 0xffffffff};
const Values INFO_TYPES{NBDREF_INFO_TYPES(NBDREF_VALUE) 4, 0xffff};
const Values REPLY_TYPES{NBDREF_REPLY_TYPES(NBDREF_VALUE) 3, 4,     7, NBD_REPLY_TYPE_FLAG_ERROR,
                         NBD_REPLY_TYPE_FLAG_ERROR + 3,      0xffff};
const Values ERRORS{NBDREF_ERRORS(NBDREF_VALUE) 0, 4, 0xffffffff};
#undef NBDREF_VALUE

const Values LONG_MAGICS{NBDMAGIC, IHAVEOPT, OLDSTYLE_MAGIC, OPTION_REPLY_MAGIC};
const Values SHORT_MAGICS{NBD_SIMPLE_REPLY_MAGIC, NBD_STRUCTURED_REPLY_MAGIC,
                          NBD_EXTENDED_REPLY_MAGIC, NBD_REQUEST_MAGIC, NBD_EXTENDED_REQUEST_MAGIC};
const Values HANDSHAKE_FLAGS{0,
                             NBD_FLAG_FIXED_NEWSTYLE,
                             NBD_FLAG_NO_ZEROES,
                             NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES,
                             0xfffc,
                             0xffff};
// Sizes, offsets and extent lengths: around sectors, pages, 2^31, 2^32, 2^63.
const Values SIZES{0,
                   1,
                   511,
                   512,
                   4096,
                   65536,
                   1u << 20,
                   1u << 25,
                   (1u << 31) - 1,
                   1u << 31,
                   0xffffffff,
                   std::uint64_t{1} << 32,
                   std::uint64_t{1} << 40,
                   (std::uint64_t{1} << 63) - 512,
                   std::uint64_t{1} << 63,
                   ~std::uint64_t{0}};
const Values BLOCK_SIZES{0,    1,     2,        3,        511,      512,       1000,
                         4096, 65536, 1u << 17, 1u << 25, 1u << 31, 0xffffffff};
const Values SMALL_NUMBERS{0, 1, 2, 3, 4, 0xffffffff};

Values transmission_flags() {
  Values v{0, NBD_FLAG_HAS_FLAGS, 0xffff};
  std::uint64_t all = 0;
#define NBDREF_FLAG(name, value)             \
  v.push_back(NBD_FLAG_HAS_FLAGS | (value)); \
  all |= (value);
  NBDREF_TRANSMISSION_FLAGS(NBDREF_FLAG)
#undef NBDREF_FLAG
  v.push_back(all);
  return v;
}

void append(Values& to, const Values& from) {
  to.insert(to.end(), from.begin(), from.end());
}

// The protocol's values for the role, and what the stream uses.
Values role_values(const Message& m, const Field& f, const StreamFacts& facts) {
  Values v;
  if (const auto consistent = consistent_value(m, f)) v.push_back(*consistent);
  switch (f.role) {
    case R::Magic:
      append(v, f.width == 8 ? LONG_MAGICS : SHORT_MAGICS);
      break;
    case R::HandshakeFlags:
      append(v, HANDSHAKE_FLAGS);
      break;
    case R::TransmissionFlags:
      append(v, transmission_flags());
      break;
    case R::ExportSize:
    case R::Offset:
    case R::ExtentLength:
      append(v, SIZES);
      break;
    case R::Option:
      append(v, OPTIONS);
      break;
    case R::OptionReplyType:
      append(v, OPTION_REPLIES);
      break;
    case R::InfoType:
      append(v, INFO_TYPES);
      break;
    case R::BlockSize:
      append(v, BLOCK_SIZES);
      break;
    case R::ContextId:
      v.insert(v.end(), facts.context_ids.begin(), facts.context_ids.end());
      append(v, SMALL_NUMBERS);
      break;
    case R::ReplyFlags:
      append(v, {0, NBD_REPLY_FLAG_DONE, 2, 0xffff});
      break;
    case R::ChunkType:
      append(v, REPLY_TYPES);
      break;
    case R::Cookie:
      v.insert(v.end(), facts.cookies.begin(), facts.cookies.end());
      append(v, SMALL_NUMBERS);
      break;
    case R::ExtentStatus:
      append(v, SMALL_NUMBERS);
      break;
    case R::Error:
      append(v, ERRORS);
      break;
    case R::MessageLength:
      append(v, {0, 1, MAX_STRING_LENGTH, MAX_STRING_LENGTH + 1, 0xffff});
      break;
    case R::Length:
    case R::NameLength:
    case R::DescriptorCount:
      append(v, {0, 1, MAX_STRING_LENGTH + 1, 1u << 25, 1u << 31, 0xffffffff});
      break;
  }
  return v;
}

// 0, 1, 2^(n-1) - 1, 2^(n-1), and the maximum of an n-bit field; 2^32 - 1 too.
Values boundaries(std::size_t width) {
  const unsigned bits = static_cast<unsigned>(width * 8);
  const std::uint64_t top = std::uint64_t{1} << (bits - 1);
  return {0, 1, top - 1, top, top | (top - 1), 0xffffffff};
}

std::uint64_t candidate(const Message& m, const Field& f, Random& random,
                        const StreamFacts& facts) {
  const std::uint64_t current = read_field(m, f);
  switch (random.below(8)) {
    case 0:
    case 1:
    case 2:
    case 3:
      return random.pick(role_values(m, f, facts));
    case 4:
    case 5:
      return random.pick(boundaries(f.width));
    case 6: {
      const std::uint64_t step = random.between(1, 16);
      return random.one_in(2) ? current + step : current - step;
    }
    default:
      return current ^ (std::uint64_t{1} << random.below(f.width * 8));
  }
}

}  // namespace

std::optional<std::uint64_t> consistent_value(const Message& m, const Field& f) {
  const std::size_t payload = payload_size(m);
  switch (f.role) {
    case R::Length:
      return payload;
    case R::NameLength:
      return payload - 4;  // the field is inside the payload, so payload >= 4
    case R::DescriptorCount:
      return (payload - 8) / BLOCK_STATUS_EXT_DESCRIPTOR_SIZE;
    case R::MessageLength: {
      const bool with_offset = load_be16(m.bytes.data() + 6) == NBD_REPLY_TYPE_ERROR_OFFSET;
      const std::size_t fixed = with_offset ? ERROR_OFFSET_CHUNK_MIN_SIZE : ERROR_CHUNK_MIN_SIZE;
      if (payload < fixed) return std::nullopt;
      return payload - fixed;
    }
    default:
      return std::nullopt;
  }
}

void mutate_field(Message& m, const Field& f, Random& random, const StreamFacts& facts) {
  const std::uint64_t mask =
      f.width == 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (f.width * 8)) - 1;
  const std::uint64_t current = read_field(m, f);
  std::uint64_t value = current;
  for (int tries = 0; tries < 8 && value == current; ++tries) {
    value = candidate(m, f, random, facts) & mask;
  }
  if (value == current) value = current ^ 1;
  write_field(m, f, value);
}

}  // namespace nbdref::fuzz::mutator
