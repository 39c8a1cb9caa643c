// Requests refused on the client side, before any byte is sent: libnbd's
// strict mode and the client requirements of proto.md.
#include <gtest/gtest.h>

#include "engine_harness.hpp"
#include "wire/option_request.hpp"

namespace nbdref::test {
namespace {

using namespace wire;
using engine::CommandRequest;

struct StrictCase {
  const char* name;
  std::uint16_t export_flags;
  CommandRequest request;
  int errnum;
  std::uint32_t relax;  // the strict bit that governs the check
};

std::uint8_t g_buffer[1 << 20];

CommandRequest cmd(std::uint16_t type, std::uint64_t offset, std::uint64_t length,
                   std::uint32_t flags = 0) {
  CommandRequest r;
  r.type = type;
  r.offset = offset;
  r.length = length;
  r.flags = flags;
  r.read_buffer = g_buffer;
  r.write_data = g_buffer;
  return r;
}

void expect_refused_locally(const StrictCase& p, engine::ConnectionConfig config = {}) {
  EngineHarness h(std::move(config));
  h.handshake_compact(1 << 20, p.export_flags, true, InfoBlockSize{512, 4096, 1 << 20});
  auto c = h.conn().submit(p.request);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().errnum, p.errnum) << c.error().message;
  EXPECT_TRUE(h.client_silent());
  EXPECT_EQ(h.conn().in_flight(), 0u);
}

class StrictChecks : public ::testing::TestWithParam<StrictCase> {};

// The request is refused with the documented errno and nothing is sent ...
TEST_P(StrictChecks, RefuseLocally) {
  expect_refused_locally(GetParam());
}

// ... and with the matching strict bit cleared it goes to the server instead.
TEST_P(StrictChecks, RelaxedModeSendsIt) {
  const auto& p = GetParam();
  engine::ConnectionConfig config;
  config.strict = engine::STRICT_ALL & ~p.relax;
  EngineHarness h(config);
  h.handshake_compact(1 << 20, p.export_flags, true, InfoBlockSize{512, 4096, 1 << 20});
  auto c = h.conn().submit(p.request);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(h.request().header.type, p.request.type);
}

constexpr std::uint16_t RO = RW_FLAGS | NBD_FLAG_READ_ONLY;
constexpr std::uint16_t BARE = NBD_FLAG_HAS_FLAGS;

INSTANTIATE_TEST_SUITE_P(
    Cases, StrictChecks,
    ::testing::Values(
        StrictCase{"WriteToReadOnly", RO, cmd(NBD_CMD_WRITE, 0, 512), EPERM,
                   engine::STRICT_COMMANDS},
        StrictCase{"TrimToReadOnly", RO, cmd(NBD_CMD_TRIM, 0, 512), EPERM, engine::STRICT_COMMANDS},
        StrictCase{"ZeroToReadOnly", RO, cmd(NBD_CMD_WRITE_ZEROES, 0, 512), EPERM,
                   engine::STRICT_COMMANDS},
        StrictCase{"FlushNotAdvertised", BARE, cmd(NBD_CMD_FLUSH, 0, 0), EINVAL,
                   engine::STRICT_COMMANDS},
        StrictCase{"TrimNotAdvertised", BARE, cmd(NBD_CMD_TRIM, 0, 512), EINVAL,
                   engine::STRICT_COMMANDS},
        // C-TX-031 (proto.md "Request types", NBD_CMD_WRITE_ZEROES).
        StrictCase{"ZeroNotAdvertised", BARE, cmd(NBD_CMD_WRITE_ZEROES, 0, 512), EINVAL,
                   engine::STRICT_COMMANDS},
        StrictCase{"CacheNotAdvertised", BARE, cmd(NBD_CMD_CACHE, 0, 512), EINVAL,
                   engine::STRICT_COMMANDS},
        StrictCase{"FuaNotAdvertised", BARE, cmd(NBD_CMD_WRITE, 0, 512, NBD_CMD_FLAG_FUA), EINVAL,
                   engine::STRICT_COMMANDS},
        StrictCase{"DfNotAdvertised", RW_FLAGS, cmd(NBD_CMD_READ, 0, 512, NBD_CMD_FLAG_DF), EINVAL,
                   engine::STRICT_COMMANDS},
        // C-TX-013 (proto.md "Transmission flags"): RW_FLAGS lacks NBD_FLAG_SEND_FAST_ZERO.
        StrictCase{"FastZeroNotAdvertised", RW_FLAGS,
                   cmd(NBD_CMD_WRITE_ZEROES, 0, 512, NBD_CMD_FLAG_FAST_ZERO), EINVAL,
                   engine::STRICT_COMMANDS},
        StrictCase{"UnknownFlag", RW_FLAGS, cmd(NBD_CMD_WRITE, 0, 512, 0x40), EINVAL,
                   engine::STRICT_FLAGS},
        StrictCase{"FlagForAnotherCommand", RW_FLAGS,
                   cmd(NBD_CMD_READ, 0, 512, NBD_CMD_FLAG_REQ_ONE), EINVAL, engine::STRICT_FLAGS},
        // C-TX-016 (proto.md "Command flags"): FUA only on commands that write,
        // although the export advertises NBD_FLAG_SEND_FUA.
        StrictCase{"FuaOnRead", RW_FLAGS, cmd(NBD_CMD_READ, 0, 512, NBD_CMD_FLAG_FUA), EINVAL,
                   engine::STRICT_FLAGS},
        StrictCase{"FuaOnFlush", RW_FLAGS, cmd(NBD_CMD_FLUSH, 0, 0, NBD_CMD_FLAG_FUA), EINVAL,
                   engine::STRICT_FLAGS},
        StrictCase{"FuaOnCache", RW_FLAGS, cmd(NBD_CMD_CACHE, 0, 512, NBD_CMD_FLAG_FUA), EINVAL,
                   engine::STRICT_FLAGS},
        StrictCase{"ZeroLengthRead", RW_FLAGS, cmd(NBD_CMD_READ, 0, 0), EINVAL,
                   engine::STRICT_ZERO_SIZE},
        // C-TX-022, C-TX-027, C-TX-030 (proto.md "Request types"): no
        // zero-length WRITE, TRIM or WRITE_ZEROES (C-BS-013: block_status_test.cpp).
        StrictCase{"ZeroLengthWrite", RW_FLAGS, cmd(NBD_CMD_WRITE, 0, 0), EINVAL,
                   engine::STRICT_ZERO_SIZE},
        StrictCase{"ZeroLengthTrim", RW_FLAGS, cmd(NBD_CMD_TRIM, 0, 0), EINVAL,
                   engine::STRICT_ZERO_SIZE},
        StrictCase{"ZeroLengthWriteZeroes", RW_FLAGS, cmd(NBD_CMD_WRITE_ZEROES, 0, 0), EINVAL,
                   engine::STRICT_ZERO_SIZE},
        StrictCase{"ReadPastTheEnd", RW_FLAGS, cmd(NBD_CMD_READ, (1 << 20) - 512, 1024), EINVAL,
                   engine::STRICT_BOUNDS},
        StrictCase{"OffsetOverflow", RW_FLAGS, cmd(NBD_CMD_TRIM, ~std::uint64_t{0} - 511, 1024),
                   EINVAL, engine::STRICT_BOUNDS},
        StrictCase{"UnalignedOffset", RW_FLAGS, cmd(NBD_CMD_READ, 100, 512), EINVAL,
                   engine::STRICT_ALIGN},
        StrictCase{"UnalignedLength", RW_FLAGS, cmd(NBD_CMD_WRITE, 0, 700), EINVAL,
                   engine::STRICT_ALIGN}),
    [](const auto& p) { return std::string(p.param.name); });

// Refused whatever the strict mode: the protocol or the library cannot carry them.
class AlwaysRefused : public ::testing::TestWithParam<StrictCase> {};

TEST_P(AlwaysRefused, EvenWithoutStrictMode) {
  engine::ConnectionConfig config;
  config.strict = 0;
  expect_refused_locally(GetParam(), config);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, AlwaysRefused,
    ::testing::Values(
        StrictCase{"FlagsBeyondSixteenBits", RW_FLAGS, cmd(NBD_CMD_WRITE, 0, 512, 0x10000), EINVAL,
                   0},
        StrictCase{"PayloadLenFromCaller", RW_FLAGS,
                   cmd(NBD_CMD_WRITE, 0, 512, NBD_CMD_FLAG_PAYLOAD_LEN), EINVAL, 0},
        StrictCase{"WriteAboveMaximumPayload", RW_FLAGS, cmd(NBD_CMD_WRITE, 0, 2 << 20), ERANGE, 0},
        StrictCase{"ReadAbove64MiB", RW_FLAGS, cmd(NBD_CMD_READ, 0, 65 << 20), ERANGE, 0},
        StrictCase{"LengthBeyond32BitsWithoutExtendedHeaders", RW_FLAGS,
                   cmd(NBD_CMD_TRIM, 0, std::uint64_t{1} << 32), ERANGE, 0},
        StrictCase{"BlockStatusWithoutContexts", RW_FLAGS, cmd(NBD_CMD_BLOCK_STATUS, 0, 512),
                   ENOTSUP, 0}),
    [](const auto& p) { return std::string(p.param.name); });

TEST(StrictChecksState, CommandsNeedTheReadyPhase) {
  EngineHarness h;
  auto c = h.conn().submit(cmd(NBD_CMD_FLUSH, 0, 0));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().errnum, ENOTCONN);
}

TEST(StrictChecksState, DeadConnectionSaysWhy) {
  EngineHarness h;
  h.handshake_compact(4096, RW_FLAGS);
  h.server_sends(ByteVector{0xde, 0xad, 0xbe, 0xef});
  auto c = h.conn().submit(cmd(NBD_CMD_FLUSH, 0, 0));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().errnum, ENOTCONN);
  EXPECT_NE(c.error().message.find("reply magic"), std::string::npos) << c.error().message;
}

// C-SZ-005: without advertised sizes, client payloads stay within 32 MiB.
TEST(StrictChecksState, DefaultMaximumPayloadIs32MiB) {
  EngineHarness h;
  h.handshake_compact(std::uint64_t{1} << 30, RW_FLAGS);
  static std::uint8_t big[(32 << 20) + 512];
  CommandRequest w = cmd(NBD_CMD_WRITE, 0, sizeof big);
  w.write_data = big;
  auto c = h.conn().submit(w);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().errnum, ERANGE);
  w.length = 32 << 20;
  EXPECT_TRUE(h.conn().submit(w));
}

// C-INT-010 (proto.md "Maximum interoperability"): a client that does not
// ask for size constraints keeps to the defaults of "Size constraints": GO
// carries no NBD_INFO_BLOCK_SIZE request, and the READ and WRITE payloads the
// client controls stay within 32 MiB. (The 512-byte alignment the defaults
// suggest is left to the caller, as in libnbd: a server's default minimum
// block size is 1.)
TEST(StrictChecksState, WithoutAskingForSizesTheDefaultsApply) {
  engine::ConnectionConfig config;
  config.request_block_size = false;
  config.request_extended_headers = false;
  config.request_structured_replies = false;  // simple replies: READ payloads are ours too
  EngineHarness h(config);
  h.server_sends(newstyle_greeting());
  h.client_flags();
  auto go = h.option();
  ASSERT_EQ(go.option, NBD_OPT_GO);
  auto req = decode_info_request(go.data);
  ASSERT_TRUE(req);
  EXPECT_TRUE(req->info_types.empty());
  h.server_sends(info_export(NBD_OPT_GO, std::uint64_t{1} << 30, RW_FLAGS) + ack(NBD_OPT_GO));
  ASSERT_EQ(h.phase(), engine::Phase::Ready) << h.error_message();
  ASSERT_FALSE(h.session().export_info.block_sizes);

  static std::uint8_t big[(32 << 20) + 512];
  for (const std::uint16_t type : {NBD_CMD_WRITE, NBD_CMD_READ}) {
    CommandRequest r = cmd(type, 0, sizeof big);
    r.read_buffer = big;
    r.write_data = big;
    auto c = h.conn().submit(r);
    ASSERT_FALSE(c) << describe_command(type);
    EXPECT_EQ(c.error().errnum, ERANGE) << c.error().message;
    EXPECT_NE(c.error().message.find("maximum payload of 33554432"), std::string::npos)
        << c.error().message;
  }
  EXPECT_TRUE(h.client_silent());
  CommandRequest w = cmd(NBD_CMD_WRITE, 0, 32 << 20);
  w.write_data = big;
  ASSERT_TRUE(h.conn().submit(w));
  EXPECT_EQ(h.request().header.length, 32u << 20);
}

}  // namespace
}  // namespace nbdref::test
