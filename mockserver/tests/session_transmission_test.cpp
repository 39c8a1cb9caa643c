// Requests and their replies in each reply form (proto.md "Transmission",
// "Structured reply types", "Request types", "Error values";
// proto-extended-headers.md "Request message", "Extended reply chunk message").
#include <gtest/gtest.h>

#include "server/meta_context.hpp"
#include "session_test_fixture.hpp"

namespace nbdref::mock::test {
namespace {

using namespace wire;

constexpr ReplyStyle ALL_STYLES[] = {ReplyStyle::Simple, ReplyStyle::Structured,
                                     ReplyStyle::Extended};

const char* style_name(ReplyStyle s) {
  switch (s) {
    case ReplyStyle::Simple:
      return "simple";
    case ReplyStyle::Structured:
      return "structured";
    case ReplyStyle::Extended:
      return "extended";
  }
  return "?";
}

std::uint16_t write_flags(SessionDriver& d, std::uint16_t flags = 0) {
  const bool extended = d.session().negotiation().extended_headers;
  return flags | (extended ? NBD_CMD_FLAG_PAYLOAD_LEN : 0);
}

void expect_success(const Reply& r) {
  EXPECT_EQ(r.error_value(), 0u) << r.error_message();
  if (!r.simple) {
    ASSERT_EQ(r.chunks.size(), 1u);
    EXPECT_EQ(r.chunks[0].header.type, NBD_REPLY_TYPE_NONE);
  }
}

void write(SessionDriver& d, std::uint64_t offset, const ByteVector& data) {
  d.send_request(request(NBD_CMD_WRITE, offset, data.size(), write_flags(d)), data);
  expect_success(d.reply());
}

// The bytes a successful read reply describes, checking that its content
// chunks tile the request exactly (S-SR-021, S-SR-022, S-SR-045).
ByteVector read_data(const Reply& r, std::uint64_t offset, std::uint64_t length) {
  if (r.simple) return r.data;
  ByteVector out(length, 0xee);
  std::vector<bool> seen(length, false);
  for (const auto& c : r.chunks) {
    std::uint64_t at = 0;
    std::uint64_t n = 0;
    Bytes data;
    if (c.header.type == NBD_REPLY_TYPE_OFFSET_DATA) {
      auto chunk = decode_offset_data(c.payload);
      EXPECT_TRUE(chunk);
      at = chunk->offset;
      n = chunk->data.size();
      data = chunk->data;
    } else if (c.header.type == NBD_REPLY_TYPE_OFFSET_HOLE) {
      auto hole = decode_offset_hole(c.payload);
      EXPECT_TRUE(hole);
      at = hole->offset;
      n = hole->length;
    } else {
      EXPECT_EQ(c.header.type, NBD_REPLY_TYPE_NONE);
      continue;
    }
    if (at < offset || at + n > offset + length) {
      ADD_FAILURE() << "content chunk " << at << "+" << n << " lies outside the request";
      continue;
    }
    if (data.empty()) {
      std::fill_n(out.begin() + static_cast<std::ptrdiff_t>(at - offset), n, 0);
    } else {
      std::copy(data.begin(), data.end(), out.begin() + static_cast<std::ptrdiff_t>(at - offset));
    }
    for (std::uint64_t i = at - offset; i < at - offset + n; ++i) {
      EXPECT_FALSE(seen[i]) << "overlap at " << offset + i;
      seen[i] = true;
    }
  }
  EXPECT_TRUE(std::all_of(seen.begin(), seen.end(), [](bool b) { return b; }));
  return out;
}

ByteVector read(SessionDriver& d, std::uint64_t offset, std::uint64_t length,
                std::uint16_t flags = 0) {
  d.send_request(request(NBD_CMD_READ, offset, length, flags));
  const auto r = d.reply(length);
  EXPECT_EQ(r.error_value(), 0u) << r.error_message();
  return read_data(r, offset, length);
}

// A status descriptor as (length, status), which gtest compares and prints.
using Extent = std::pair<std::uint64_t, std::uint64_t>;

std::vector<Extent> block_status(SessionDriver& d, std::uint64_t offset, std::uint64_t length,
                                 std::uint16_t flags = 0) {
  d.send_request(request(NBD_CMD_BLOCK_STATUS, offset, length, flags));
  const auto r = d.reply();
  EXPECT_EQ(r.error_value(), 0u) << r.error_message();
  if (r.chunks.size() != 1) {
    ADD_FAILURE() << r.chunks.size() << " chunks";
    return {};
  }
  const bool wide = r.chunks[0].header.type == NBD_REPLY_TYPE_BLOCK_STATUS_EXT;
  EXPECT_EQ(wide, d.session().negotiation().extended_headers);
  auto view = wide ? decode_block_status_ext(r.chunks[0].payload)
                   : decode_block_status(r.chunks[0].payload);
  EXPECT_TRUE(view) << view.error().to_string();
  EXPECT_EQ(view->context_id(), BASE_ALLOCATION_ID);
  std::vector<Extent> out;
  for (std::size_t i = 0; i < view->size(); ++i)
    out.emplace_back((*view)[i].length, (*view)[i].status);
  return out;
}

// The error a request gets, checking its form: simple without chunks,
// one DONE error chunk with a message otherwise.
std::uint32_t error_of(SessionDriver& d, const RequestHeader& h, const ByteVector& payload = {}) {
  d.send_request(h, payload);
  const auto r = d.reply();
  if (!r.simple) {
    EXPECT_EQ(r.chunks.size(), 1u);
    EXPECT_EQ(r.chunks[0].header.type, NBD_REPLY_TYPE_ERROR);
    EXPECT_FALSE(r.error_message().empty());
    EXPECT_EQ(r.chunks[0].header.cookie, h.cookie);
  }
  return r.error_value();
}

constexpr std::uint64_t HOLE = 3;  // NBD_STATE_HOLE | NBD_STATE_ZERO
constexpr std::uint64_t ZERO = 2;  // NBD_STATE_ZERO
constexpr std::uint64_t DATA = 0;

class Transmission : public SessionTest {};
NBDREF_SESSION_TEST_SUITE(Transmission);

TEST_P(Transmission, WrittenDataReadsBackInEveryReplyForm) {
  for (auto style : ALL_STYLES) {
    SCOPED_TRACE(style_name(style));
    auto d = make();
    d.connect(style);
    const auto data = pattern(10000, 1);
    write(d, 3000, data);
    EXPECT_EQ(read(d, 3000, data.size()), data);
    auto around = read(d, 0, 16384);
    EXPECT_TRUE(std::equal(data.begin(), data.end(), around.begin() + 3000));
    EXPECT_EQ(ByteVector(around.begin(), around.begin() + 3000), ByteVector(3000, 0));
  }
}

TEST_P(Transmission, StructuredReadSendsHolesForUnallocatedPages) {
  auto d = make();
  d.connect(ReplyStyle::Structured);
  write(d, 4096, pattern(4096, 9));
  d.send_request(request(NBD_CMD_READ, 0, 3 * 4096));
  const auto r = d.reply();
  ASSERT_EQ(r.chunks.size(), 3u);
  EXPECT_EQ(r.chunks[0].header.type, NBD_REPLY_TYPE_OFFSET_HOLE);
  EXPECT_EQ(r.chunks[1].header.type, NBD_REPLY_TYPE_OFFSET_DATA);
  EXPECT_EQ(r.chunks[2].header.type, NBD_REPLY_TYPE_OFFSET_HOLE);
  EXPECT_EQ(r.chunks[0].header.flags, 0);
  EXPECT_EQ(r.chunks[1].header.flags, 0);
  EXPECT_EQ(r.chunks[2].header.flags, NBD_REPLY_FLAG_DONE);
  auto data = decode_offset_data(r.chunks[1].payload);
  ASSERT_TRUE(data);
  EXPECT_EQ(data->offset, 4096u);
  EXPECT_EQ(ByteVector(data->data.begin(), data->data.end()), pattern(4096, 9));
}

TEST_P(Transmission, ExtendedChunksRepeatTheRequestOffset) {
  auto d = make();
  d.connect(ReplyStyle::Extended);
  write(d, 8192, pattern(100, 2));
  d.send_request(request(NBD_CMD_READ, 4096, 8192));
  const auto r = d.reply();
  ASSERT_EQ(r.chunks.size(), 2u);
  for (const auto& c : r.chunks) EXPECT_EQ(c.header.offset, 4096u);  // X-S-006
  EXPECT_EQ(read_data(r, 4096, 8192).at(4096), pattern(1, 2)[0]);
}

TEST_P(Transmission, DfReadIsOneDataChunkWithExplicitZeroes) {
  auto d = make();
  d.connect(ReplyStyle::Structured);
  write(d, 4096, pattern(512, 5));
  d.send_request(request(NBD_CMD_READ, 0, 3 * 4096, NBD_CMD_FLAG_DF));
  const auto r = d.reply();
  ASSERT_EQ(r.chunks.size(), 1u);
  EXPECT_EQ(r.chunks[0].header.type, NBD_REPLY_TYPE_OFFSET_DATA);
  const auto data = read_data(r, 0, 3 * 4096);
  EXPECT_EQ(ByteVector(data.begin() + 4096, data.begin() + 4608), pattern(512, 5));

  d.send_request(request(NBD_CMD_READ, 8192, 8192, NBD_CMD_FLAG_DF));
  const auto hole = d.reply();
  ASSERT_EQ(hole.chunks.size(), 1u);
  EXPECT_EQ(hole.chunks[0].header.type, NBD_REPLY_TYPE_OFFSET_HOLE);
}

TEST_P(Transmission, ZeroLengthReadSucceeds) {
  for (auto style : ALL_STYLES) {
    SCOPED_TRACE(style_name(style));
    auto d = make();
    d.connect(style);
    d.send_request(request(NBD_CMD_READ, 4096, 0));
    const auto r = d.reply();
    EXPECT_EQ(r.simple, style == ReplyStyle::Simple);
    expect_success(r);
  }
}

TEST_P(Transmission, SuccessWithoutDataIsSimpleUnlessExtended) {
  for (auto style : ALL_STYLES) {
    SCOPED_TRACE(style_name(style));
    auto d = make();
    d.connect(style);
    d.send_request(request(NBD_CMD_FLUSH, 0, 0));
    const auto r = d.reply();
    EXPECT_EQ(r.simple, style != ReplyStyle::Extended);  // S-SR-001, X-S-004
    expect_success(r);
  }
}

TEST_P(Transmission, OutOfRangeRequestsFailWithTheirErrors) {
  for (auto style : ALL_STYLES) {
    SCOPED_TRACE(style_name(style));
    auto d = make();
    d.connect(style, style != ReplyStyle::Simple);
    const std::uint64_t size = 1 << 20;
    EXPECT_EQ(error_of(d, request(NBD_CMD_READ, size - 512, 1024)), NBD_EINVAL);
    EXPECT_EQ(error_of(d, request(NBD_CMD_WRITE, size, 512, write_flags(d)), ByteVector(512, 1)),
              NBD_ENOSPC);
    EXPECT_EQ(error_of(d, request(NBD_CMD_WRITE_ZEROES, size - 4096, 8192)), NBD_ENOSPC);
    EXPECT_EQ(error_of(d, request(NBD_CMD_TRIM, ~std::uint64_t{0} - 10, 100)), NBD_EINVAL);
    EXPECT_EQ(error_of(d, request(NBD_CMD_CACHE, size + 1, 1)), NBD_EINVAL);
    if (style != ReplyStyle::Simple) {
      EXPECT_EQ(error_of(d, request(NBD_CMD_BLOCK_STATUS, size, 4096)), NBD_EINVAL);
    }
    // Nothing was written, and the connection still works.
    EXPECT_EQ(read(d, size - 4096, 4096), ByteVector(4096, 0));
  }
}

TEST_P(Transmission, ReadOnlyExportRefusesWritesAndSkipsTheirPayload) {
  auto config = default_config();
  config.exports[0].config.read_only = true;
  auto d = make(config);
  d.connect(ReplyStyle::Structured);
  EXPECT_EQ(error_of(d, request(NBD_CMD_WRITE, 0, 4096), pattern(4096, 1)), NBD_EPERM);
  EXPECT_EQ(error_of(d, request(NBD_CMD_TRIM, 0, 4096)), NBD_EPERM);
  EXPECT_EQ(error_of(d, request(NBD_CMD_WRITE_ZEROES, 0, 4096)), NBD_EPERM);
  EXPECT_EQ(read(d, 0, 4096), ByteVector(4096, 0));
}

TEST_P(Transmission, MisalignedRequestsFailWithEinval) {
  auto config = default_config();
  config.exports[0].config.minimum_block = 512;
  auto d = make(config);
  d.connect(ReplyStyle::Simple);
  EXPECT_EQ(error_of(d, request(NBD_CMD_READ, 100, 512)), NBD_EINVAL);
  EXPECT_EQ(error_of(d, request(NBD_CMD_WRITE, 512, 100), ByteVector(100, 1)), NBD_EINVAL);
  EXPECT_EQ(error_of(d, request(NBD_CMD_TRIM, 512, 1000)), NBD_EINVAL);
  write(d, 512, pattern(1024, 4));
  EXPECT_EQ(read(d, 512, 1024), pattern(1024, 4));
}

TEST_P(Transmission, UnknownCommandsAndFlagsFailWithEinval) {
  for (auto style : ALL_STYLES) {
    SCOPED_TRACE(style_name(style));
    auto d = make();
    d.connect(style, style != ReplyStyle::Simple);
    EXPECT_EQ(error_of(d, request(NBD_CMD_RESIZE, 0, 0)), NBD_EINVAL);
    EXPECT_EQ(error_of(d, request(77, 0, 4096)), NBD_EINVAL);
    EXPECT_EQ(error_of(d, request(NBD_CMD_FLUSH, 0, 0, 0x8000)), NBD_EINVAL);
    EXPECT_EQ(error_of(d, request(NBD_CMD_CACHE, 0, 4096, NBD_CMD_FLAG_NO_HOLE)), NBD_EINVAL);
    EXPECT_EQ(error_of(d, request(NBD_CMD_READ, 0, 4096, NBD_CMD_FLAG_REQ_ONE)), NBD_EINVAL);
    EXPECT_EQ(error_of(d, request(NBD_CMD_WRITE, 0, 16, write_flags(d, NBD_CMD_FLAG_DF)),
                       ByteVector(16, 1)),
              NBD_EINVAL);
    // DF is only advertised, and so only allowed, once replies have chunks.
    if (style == ReplyStyle::Simple) {
      EXPECT_EQ(error_of(d, request(NBD_CMD_READ, 0, 4096, NBD_CMD_FLAG_DF)), NBD_EINVAL);
    }
    EXPECT_EQ(read(d, 0, 16), ByteVector(16, 0));
  }
}

TEST_P(Transmission, FuaGoesWithEveryCommandOnlyWhenAdvertised) {
  auto d = make();
  d.connect(ReplyStyle::Structured, true);
  for (auto type : {NBD_CMD_READ, NBD_CMD_FLUSH, NBD_CMD_TRIM, NBD_CMD_CACHE, NBD_CMD_WRITE_ZEROES,
                    NBD_CMD_BLOCK_STATUS}) {
    const std::uint64_t length = type == NBD_CMD_FLUSH ? 0 : 4096;
    d.send_request(request(type, 0, length, NBD_CMD_FLAG_FUA));
    EXPECT_EQ(d.reply().error_value(), 0u) << describe_command(type);  // S-TX-025
  }
  auto config = default_config();
  config.exports[0].config.fua = false;
  auto plain = make(config);
  plain.connect(ReplyStyle::Structured);
  EXPECT_EQ(error_of(plain, request(NBD_CMD_WRITE, 0, 8, NBD_CMD_FLAG_FUA), ByteVector(8, 1)),
            NBD_EINVAL);
}

TEST_P(Transmission, UnadvertisedCommandsFailWithEinval) {
  auto config = default_config();
  auto& e = config.exports[0].config;
  e.flush = e.trim = e.write_zeroes = e.cache = false;
  auto d = make(config);
  d.connect(ReplyStyle::Structured);
  EXPECT_EQ(error_of(d, request(NBD_CMD_FLUSH, 0, 0)), NBD_EINVAL);
  EXPECT_EQ(error_of(d, request(NBD_CMD_TRIM, 0, 4096)), NBD_EINVAL);
  EXPECT_EQ(error_of(d, request(NBD_CMD_WRITE_ZEROES, 0, 4096)), NBD_EINVAL);
  EXPECT_EQ(error_of(d, request(NBD_CMD_CACHE, 0, 4096)), NBD_EINVAL);
  EXPECT_EQ(error_of(d, request(NBD_CMD_BLOCK_STATUS, 0, 4096)), NBD_EINVAL);
}

TEST_P(Transmission, FlushWithAnOffsetIsInvalid) {
  auto d = make();
  d.connect(ReplyStyle::Structured);
  d.send_request(request(NBD_CMD_FLUSH, 4096, 0));
  const auto r = d.reply();
  EXPECT_EQ(r.error_value(), NBD_EINVAL);
  EXPECT_NE(r.error_message().find("C-TX-026"), std::string::npos);
}

TEST_P(Transmission, TrimAndWriteZeroesShowInBlockStatus) {
  for (auto style : {ReplyStyle::Structured, ReplyStyle::Extended}) {
    SCOPED_TRACE(style_name(style));
    auto d = make();
    d.connect(style, true);
    write(d, 0, pattern(8 * 4096, 3));
    d.send_request(request(NBD_CMD_TRIM, 4096, 4096));
    expect_success(d.reply());
    d.send_request(request(NBD_CMD_WRITE_ZEROES, 2 * 4096, 2 * 4096));
    expect_success(d.reply());
    d.send_request(request(NBD_CMD_WRITE_ZEROES, 5 * 4096, 4096, NBD_CMD_FLAG_NO_HOLE));
    expect_success(d.reply());
    const std::vector<Extent> expected = {{4096, DATA},     {3 * 4096, HOLE},
                                          {4096, DATA},     {4096, ZERO},
                                          {2 * 4096, DATA}, {(1 << 20) - 8 * 4096 - 4096, HOLE}};
    EXPECT_EQ(block_status(d, 0, (1 << 20) - 4096), expected);
    EXPECT_EQ(read(d, 2 * 4096, 2 * 4096), ByteVector(2 * 4096, 0));  // S-TX-051
    EXPECT_EQ(read(d, 5 * 4096, 4096), ByteVector(4096, 0));
  }
}

TEST_P(Transmission, BlockStatusWithReqOneGivesOneExtentWithinTheRequest) {
  auto d = make();
  d.connect(ReplyStyle::Structured, true);
  write(d, 8192, pattern(4096, 1));
  const std::vector<Extent> one = {{4096, HOLE}};
  EXPECT_EQ(block_status(d, 4096, 8192, NBD_CMD_FLAG_REQ_ONE), one);  // S-BS-043
  const std::vector<Extent> data = {{4096, DATA}};
  EXPECT_EQ(block_status(d, 8192, 1 << 19, NBD_CMD_FLAG_REQ_ONE), data);
}

TEST_P(Transmission, BlockStatusExtentsAreMultiplesOfTheMinimumBlockSize) {
  auto config = default_config();
  config.exports[0].config.minimum_block = 4096;
  auto d = make(config);
  d.connect(ReplyStyle::Extended, true);
  write(d, 3 * 4096, pattern(4096, 1));
  for (const auto& e : block_status(d, 0, 1 << 20)) EXPECT_EQ(e.first % 4096, 0u);  // X-S-041
  EXPECT_EQ(error_of(d, request(NBD_CMD_BLOCK_STATUS, 100, 4096)), NBD_EINVAL);
}

TEST_P(Transmission, BlockStatusNeedsALengthAndAContext) {
  auto d = make();
  d.connect(ReplyStyle::Structured, true);
  EXPECT_EQ(error_of(d, request(NBD_CMD_BLOCK_STATUS, 0, 0)), NBD_EINVAL);  // S-BS-048
  auto without = make();
  without.connect(ReplyStyle::Structured, false);
  EXPECT_EQ(error_of(without, request(NBD_CMD_BLOCK_STATUS, 0, 4096)), NBD_EINVAL);  // S-BS-003
}

TEST_P(Transmission, FastZeroSucceedsByReleasingPagesButNotWithNoHole) {
  auto d = make();
  d.connect(ReplyStyle::Structured);
  write(d, 0, pattern(8192, 8));
  EXPECT_EQ(error_of(d, request(NBD_CMD_WRITE_ZEROES, 0, 8192,
                                NBD_CMD_FLAG_FAST_ZERO | NBD_CMD_FLAG_NO_HOLE)),
            NBD_ENOTSUP);                         // S-TX-028
  EXPECT_EQ(read(d, 0, 8192), pattern(8192, 8));  // S-TX-057: unchanged
  d.send_request(request(NBD_CMD_WRITE_ZEROES, 0, 8192, NBD_CMD_FLAG_FAST_ZERO));
  expect_success(d.reply());
  EXPECT_EQ(read(d, 0, 8192), ByteVector(8192, 0));

  auto config = default_config();
  config.exports[0].config.fast_zero = false;
  auto slow = make(config);
  slow.connect(ReplyStyle::Structured);
  EXPECT_EQ(error_of(slow, request(NBD_CMD_WRITE_ZEROES, 0, 4096, NBD_CMD_FLAG_FAST_ZERO)),
            NBD_EINVAL);  // S-TX-060
}

TEST_P(Transmission, ExtendedRequestsUsePayloadLengthOnlyForWrites) {
  auto d = make();
  d.connect(ReplyStyle::Extended, true);
  // X-C-002: a write without PAYLOAD_LEN carries nothing and fails.
  EXPECT_EQ(error_of(d, request(NBD_CMD_WRITE, 0, 512)), NBD_EINVAL);
  // X-S-030, X-S-040: other commands' payloads are read, dropped and refused.
  const ByteVector junk(40, 0x5c);
  EXPECT_EQ(error_of(d, request(NBD_CMD_READ, 0, junk.size(), NBD_CMD_FLAG_PAYLOAD_LEN), junk),
            NBD_EINVAL);
  EXPECT_EQ(error_of(d, request(NBD_CMD_BLOCK_STATUS, 0, 12, NBD_CMD_FLAG_PAYLOAD_LEN),
                     ByteVector(12, 0)),
            NBD_EINVAL);
  write(d, 0, pattern(512, 6));
  EXPECT_EQ(read(d, 0, 512), pattern(512, 6));
}

TEST_P(Transmission, ExtendedEffectLengthsMayExceedThirtyTwoBits) {
  auto config = default_config();
  config.exports[0] = test_export("disk", std::uint64_t{6} << 30);
  auto d = make(config);
  d.connect(ReplyStyle::Extended, true);
  write(d, std::uint64_t{5} << 30, pattern(4096, 1));
  const std::uint64_t length = std::uint64_t{6} << 30;
  const std::vector<Extent> expected = {
      {std::uint64_t{5} << 30, HOLE}, {4096, DATA}, {(std::uint64_t{1} << 30) - 4096, HOLE}};
  EXPECT_EQ(block_status(d, 0, length), expected);
  d.send_request(request(NBD_CMD_WRITE_ZEROES, 0, length));
  expect_success(d.reply());
}

TEST_P(Transmission, PayloadLengthInACompactRequestIsInvalid) {
  auto d = make();
  d.connect(ReplyStyle::Structured);
  EXPECT_EQ(error_of(d, request(NBD_CMD_WRITE, 0, 8, NBD_CMD_FLAG_PAYLOAD_LEN), ByteVector(8, 1)),
            NBD_EINVAL);  // X-C-001
  EXPECT_EQ(read(d, 0, 8), ByteVector(8, 0));
}

TEST_P(Transmission, PayloadsAboveTheAdvertisedMaximumAreConsumedAndRefused) {
  auto config = default_config();
  config.exports[0].config.maximum_payload = 64 * 1024;
  auto d = make(config);
  d.connect(ReplyStyle::Simple);
  // S-SZ-016: below 32 MiB the payload is no reason to hang up.
  EXPECT_EQ(error_of(d, request(NBD_CMD_WRITE, 0, 128 * 1024), pattern(128 * 1024, 1)), NBD_EINVAL);
  EXPECT_EQ(error_of(d, request(NBD_CMD_READ, 0, 128 * 1024)), NBD_EINVAL);  // C-SZ-008
  EXPECT_EQ(read(d, 0, 64 * 1024), ByteVector(64 * 1024, 0));
}

TEST_P(Transmission, LongStructuredReadsAreSplitAtTheMaximumPayload) {
  auto config = default_config();
  config.exports[0].config.maximum_payload = 64 * 1024;
  auto d = make(config);
  d.connect(ReplyStyle::Structured);
  const auto data = pattern(200 * 1024, 2);
  for (std::size_t at = 0; at < data.size(); at += 64 * 1024) {
    const std::size_t n = std::min<std::size_t>(64 * 1024, data.size() - at);
    write(d, at, ByteVector(data.begin() + at, data.begin() + at + n));
  }
  d.send_request(request(NBD_CMD_READ, 0, data.size()));
  const auto r = d.reply();
  for (const auto& c : r.chunks) EXPECT_LE(c.header.length, 64 * 1024 + 8);  // S-SR-017
  EXPECT_EQ(r.chunks.size(), 4u);
  EXPECT_EQ(read_data(r, 0, data.size()), data);
}

TEST_P(Transmission, PipelinedRequestsAreAnsweredInOrder) {
  auto d = make();
  d.connect(ReplyStyle::Structured);
  ByteVector batch;
  for (std::uint64_t cookie = 1; cookie <= 3; ++cookie) {
    ByteVector h(COMPACT_REQUEST_SIZE);
    encode_compact_request(request(NBD_CMD_WRITE, cookie * 512, 512, 0, cookie), h.data());
    batch.insert(batch.end(), h.begin(), h.end());
    const auto data = pattern(512, static_cast<std::uint8_t>(cookie));
    batch.insert(batch.end(), data.begin(), data.end());
  }
  d.send(batch);
  for (std::uint64_t cookie = 1; cookie <= 3; ++cookie) {
    const auto r = d.reply();
    ASSERT_TRUE(r.simple);
    EXPECT_EQ(r.error, 0u);
  }
  EXPECT_EQ(read(d, 1024, 512), pattern(512, 2));
}

TEST_P(Transmission, ConnectionsToOneExportShareTheDisk) {
  const auto config = default_config();
  auto a = make(config);
  auto b = make(config);
  a.connect(ReplyStyle::Extended);
  b.connect(ReplyStyle::Simple);
  write(a, 65536, pattern(4096, 7));
  b.send_request(request(NBD_CMD_FLUSH, 0, 0));
  expect_success(b.reply());
  EXPECT_EQ(read(b, 65536, 4096), pattern(4096, 7));  // S-TX-021
}

TEST_P(Transmission, DiscEndsTheSessionWithoutAReply) {
  auto d = make();
  d.connect(ReplyStyle::Extended);
  d.send_request(request(NBD_CMD_DISC, 0, 0));
  EXPECT_TRUE(d.session().finished());
  EXPECT_FALSE(d.session().client_violation());
  EXPECT_TRUE(d.server_silent());  // S-TX-041
  // C-TX-023: nothing may follow.
  EXPECT_EQ(d.session().feed(ByteVector(4, 0)), 0u);
  ASSERT_TRUE(d.session().client_violation());
  EXPECT_NE(d.session().client_violation()->find("C-TX-023"), std::string::npos);
}

TEST_P(Transmission, DiscWithALengthIsAViolation) {
  auto d = make();
  d.connect(ReplyStyle::Simple);
  d.send_request(request(NBD_CMD_DISC, 0, 512));
  EXPECT_TRUE(d.session().finished());
  ASSERT_TRUE(d.session().client_violation());
  EXPECT_NE(d.session().client_violation()->find("C-TX-024"), std::string::npos);
}

}  // namespace
}  // namespace nbdref::mock::test
