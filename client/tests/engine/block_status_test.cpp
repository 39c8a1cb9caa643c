// NBD_CMD_BLOCK_STATUS and its status chunks (proto.md "Metadata querying",
// "NBD_REPLY_TYPE_BLOCK_STATUS"; proto-extended-headers.md BLOCK_STATUS_EXT).
#include <gtest/gtest.h>

#include "engine_test_fixture.hpp"

namespace nbdref::test {
namespace {

using namespace wire;
using engine::CommandRequest;
using engine::Phase;

engine::ConnectionConfig with_allocation() {
  engine::ConnectionConfig c;
  c.meta_contexts = {"base:allocation"};
  return c;
}

CommandRequest block_status(std::uint64_t offset, std::uint64_t length, engine::CommandListener* l,
                            std::uint32_t flags = 0) {
  CommandRequest r;
  r.type = NBD_CMD_BLOCK_STATUS;
  r.offset = offset;
  r.length = length;
  r.listener = l;
  r.flags = flags;
  return r;
}

class BlockStatus : public EngineTest {};
NBDREF_ENGINE_TEST_SUITE(BlockStatus);

TEST_P(BlockStatus, ExtentsArriveWithTheContextName) {
  auto h = make(with_allocation());
  h.handshake_compact(1 << 20, RW_FLAGS);
  RecordingListener l;
  auto c = h.conn().submit(block_status(0, 65536, &l));
  ASSERT_TRUE(c) << c.error().message;
  auto req = h.request();
  EXPECT_EQ(req.header.type, NBD_CMD_BLOCK_STATUS);
  // C-BS-014: equal neighbours are fine; C-BS-004: unknown bits are passed on.
  h.server_sends(chunk(*c, DONE, NBD_REPLY_TYPE_BLOCK_STATUS,
                       block_status_payload(1, {{4096, 0}, {4096, 0}, {8192, 3 | 0x100}})));
  ASSERT_EQ(l.outcomes.size(), 1u);
  EXPECT_EQ(l.outcomes[0].errnum, 0) << l.outcomes[0].message;
  ASSERT_EQ(l.extents.size(), 1u);
  EXPECT_EQ(l.extents[0].context, "base:allocation");
  EXPECT_EQ(l.extents[0].offset, 0u);
  ASSERT_EQ(l.extents[0].extents.size(), 3u);
  EXPECT_EQ(l.extents[0].extents[2].status, 0x103u);
}

// S-BS-045: the last extent may run past the request.
TEST_P(BlockStatus, LastExtentMayExceedTheRequest) {
  auto h = make(with_allocation());
  h.handshake_compact(1 << 20, RW_FLAGS);
  RecordingListener l;
  auto c = h.conn().submit(block_status(0, 4096, &l));
  h.server_sends(
      chunk(*c, DONE, NBD_REPLY_TYPE_BLOCK_STATUS, block_status_payload(1, {{1 << 20, 0}})));
  ASSERT_EQ(l.outcomes.size(), 1u);
  EXPECT_EQ(l.outcomes[0].errnum, 0);
}

TEST_P(BlockStatus, ErrorReplyNeedsNoStatusChunk) {
  auto h = make(with_allocation());
  h.handshake_compact(1 << 20, RW_FLAGS);
  RecordingListener l;
  auto c = h.conn().submit(block_status(0, 4096, &l));
  h.server_sends(chunk(*c, DONE, NBD_REPLY_TYPE_ERROR, error_payload(NBD_EINVAL, "no")));
  ASSERT_EQ(l.outcomes.size(), 1u);
  EXPECT_EQ(l.outcomes[0].errnum, EINVAL);
  EXPECT_EQ(h.phase(), Phase::Ready);
}

// C-BS-002: without a negotiated context, block status is refused locally.
TEST_P(BlockStatus, WithoutContextsIsRefusedLocally) {
  auto h = make();
  h.handshake_compact(1 << 20, RW_FLAGS);
  auto c = h.conn().submit(block_status(0, 4096, nullptr));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().errnum, ENOTSUP);
  EXPECT_TRUE(h.client_silent());
}

// C-BS-013 (proto.md "NBD_CMD_BLOCK_STATUS"): no zero-length block status
// leaves the client ...
TEST_P(BlockStatus, ZeroLengthIsRefusedLocally) {
  auto h = make(with_allocation());
  h.handshake_compact(1 << 20, RW_FLAGS);
  RecordingListener l;
  auto c = h.conn().submit(block_status(0, 0, &l));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().errnum, EINVAL) << c.error().message;
  EXPECT_TRUE(h.client_silent());
  EXPECT_EQ(h.conn().in_flight(), 0u);
  EXPECT_EQ(h.phase(), Phase::Ready);
}

// ... unless the caller clears LIBNBD_STRICT_ZERO_SIZE to test a server.
TEST_P(BlockStatus, ZeroLengthGoesOutOnlyWithTheZeroSizeCheckOff) {
  auto config = with_allocation();
  config.strict = engine::STRICT_ALL & ~engine::STRICT_ZERO_SIZE;
  auto h = make(std::move(config));
  h.handshake_compact(1 << 20, RW_FLAGS);
  RecordingListener l;
  auto c = h.conn().submit(block_status(0, 0, &l));
  ASSERT_TRUE(c) << c.error().message;
  auto req = h.request();
  EXPECT_EQ(req.header.type, NBD_CMD_BLOCK_STATUS);
  EXPECT_EQ(req.header.length, 0u);
}

TEST_P(BlockStatus, ExtendedHeadersUseSixtyFourBitExtents) {
  auto h = make(with_allocation());
  h.handshake_extended(std::uint64_t{1} << 40, RW_FLAGS);
  RecordingListener l;
  auto c = h.conn().submit(block_status(0, std::uint64_t{1} << 33, &l));
  ASSERT_TRUE(c) << c.error().message;
  auto req = h.request();
  EXPECT_EQ(req.header.length, std::uint64_t{1} << 33);  // 64-bit effect length
  h.server_sends(extended_chunk(*c, 0, DONE, NBD_REPLY_TYPE_BLOCK_STATUS_EXT,
                                block_status_ext_payload(1, {{std::uint64_t{1} << 34, 2}})));
  ASSERT_EQ(l.outcomes.size(), 1u);
  EXPECT_EQ(l.outcomes[0].errnum, 0) << l.outcomes[0].message;
  ASSERT_EQ(l.extents.size(), 1u);
  EXPECT_EQ(l.extents[0].extents[0].length, std::uint64_t{1} << 34);
}

// The client never sends a block status request payload
// (proto-extended-headers.md "NBD_CMD_BLOCK_STATUS"): its request is a bare
// header whose length is the effect length, without NBD_CMD_FLAG_PAYLOAD_LEN.
// X-C-012: request payloads need extended headers, so none with compact
// headers. X-C-005: with extended headers, none unless the server set
// NBD_FLAG_BLOCK_STATUS_PAYLOAD -- and ours sends none even then, so the
// payload form of X-C-018 never arises.
struct PayloadCase {
  const char* name;
  bool extended;
  std::uint16_t flags;
};

class BlockStatusRequestPayload : public ::testing::TestWithParam<PayloadCase> {};

TEST_P(BlockStatusRequestPayload, IsNeverSent) {
  const auto& p = GetParam();
  EngineHarness h(with_allocation());
  if (p.extended) {
    h.handshake_extended(1 << 20, p.flags);
  } else {
    h.handshake_compact(1 << 20, p.flags);
  }
  ASSERT_EQ(h.session().extended_headers, p.extended);
  RecordingListener l;
  auto c = h.conn().submit(block_status(4096, 8192, &l));
  ASSERT_TRUE(c) << c.error().message;
  auto req = h.request();
  EXPECT_EQ(req.header.type, NBD_CMD_BLOCK_STATUS);
  EXPECT_EQ(req.header.flags & NBD_CMD_FLAG_PAYLOAD_LEN, 0);
  EXPECT_EQ(req.header.offset, 4096u);
  EXPECT_EQ(req.header.length, 8192u);  // the effect length, not 8 + 4n
  EXPECT_TRUE(req.payload.empty());
  EXPECT_TRUE(h.client_silent()) << "bytes follow the block status header";
  const auto reply = p.extended ? extended_chunk(*c, 4096, DONE, NBD_REPLY_TYPE_BLOCK_STATUS_EXT,
                                                 block_status_ext_payload(1, {{8192, 0}}))
                                : chunk(*c, DONE, NBD_REPLY_TYPE_BLOCK_STATUS,
                                        block_status_payload(1, {{8192, 0}}));
  h.server_sends(reply);
  ASSERT_EQ(l.outcomes.size(), 1u);
  EXPECT_EQ(l.outcomes[0].errnum, 0) << l.outcomes[0].message;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BlockStatusRequestPayload,
    ::testing::Values(PayloadCase{"CompactHeaders", false, RW_FLAGS},
                      PayloadCase{"ExtendedWithoutBlockStatusPayloadFlag", true, RW_FLAGS},
                      PayloadCase{"ExtendedEvenWithBlockStatusPayloadFlag", true,
                                  RW_FLAGS | NBD_FLAG_BLOCK_STATUS_PAYLOAD}),
    [](const auto& p) { return std::string(p.param.name); });

struct StatusViolation {
  const char* name;
  bool extended;
  std::uint32_t flags;
  ByteVector (*reply)(std::uint64_t cookie);
  const char* clause;
};

class BlockStatusViolations : public ::testing::TestWithParam<StatusViolation> {};

TEST_P(BlockStatusViolations, KillTheConnection) {
  const auto& p = GetParam();
  EngineHarness h(with_allocation());
  if (p.extended) {
    h.handshake_extended(1 << 20, RW_FLAGS);
  } else {
    h.handshake_compact(1 << 20, RW_FLAGS);
  }
  RecordingListener l;
  auto c = h.conn().submit(block_status(0, 8192, &l, p.flags));
  ASSERT_TRUE(c) << c.error().message;
  h.server_sends(p.reply(*c));
  EXPECT_EQ(h.phase(), Phase::Dead);
  EXPECT_NE(h.error_message().find(p.clause), std::string::npos) << h.error_message();
  ASSERT_EQ(l.outcomes.size(), 1u);
  EXPECT_EQ(l.outcomes[0].errnum, EPROTO);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BlockStatusViolations,
    ::testing::Values(
        StatusViolation{"ZeroLengthExtent", false, 0,
                        [](std::uint64_t c) {
                          return chunk(c, DONE, NBD_REPLY_TYPE_BLOCK_STATUS,
                                       block_status_payload(1, {{4096, 0}, {0, 0}}));
                        },
                        "S-BS-042"},
        StatusViolation{"NoDescriptors", false, 0,
                        [](std::uint64_t c) {
                          return chunk(c, DONE, NBD_REPLY_TYPE_BLOCK_STATUS,
                                       block_status_payload(1, {}));
                        },
                        "S-BS-041"},
        StatusViolation{"UnnegotiatedContext", false, 0,
                        [](std::uint64_t c) {
                          return chunk(c, DONE, NBD_REPLY_TYPE_BLOCK_STATUS,
                                       block_status_payload(9, {{8192, 0}}));
                        },
                        "S-BS-001"},
        StatusViolation{"ContextTwice", false, 0,
                        [](std::uint64_t c) {
                          return chunk(c, 0, NBD_REPLY_TYPE_BLOCK_STATUS,
                                       block_status_payload(1, {{8192, 0}})) +
                                 chunk(c, DONE, NBD_REPLY_TYPE_BLOCK_STATUS,
                                       block_status_payload(1, {{8192, 0}}));
                        },
                        "S-BS-001"},
        StatusViolation{"DoneWithoutStatus", false, 0,
                        [](std::uint64_t c) { return chunk(c, DONE, NBD_REPLY_TYPE_NONE, {}); },
                        "S-BS-001"},
        StatusViolation{"ExtentsAfterCoveringTheRequest", false, 0,
                        [](std::uint64_t c) {
                          return chunk(c, DONE, NBD_REPLY_TYPE_BLOCK_STATUS,
                                       block_status_payload(1, {{8192, 0}, {4096, 1}}));
                        },
                        "S-BS-044"},
        StatusViolation{"ReqOneWithTwoExtents", false, NBD_CMD_FLAG_REQ_ONE,
                        [](std::uint64_t c) {
                          return chunk(c, DONE, NBD_REPLY_TYPE_BLOCK_STATUS,
                                       block_status_payload(1, {{4096, 0}, {4096, 1}}));
                        },
                        "S-BS-043"},
        StatusViolation{"ReqOneExtentTooLong", false, NBD_CMD_FLAG_REQ_ONE,
                        [](std::uint64_t c) {
                          return chunk(c, DONE, NBD_REPLY_TYPE_BLOCK_STATUS,
                                       block_status_payload(1, {{16384, 0}}));
                        },
                        "S-BS-043"},
        StatusViolation{"HugeStatusChunk", false, 0,
                        [](std::uint64_t c) {
                          ByteVector out;
                          Writer w(out);
                          encode_structured_reply_header(
                              {DONE, NBD_REPLY_TYPE_BLOCK_STATUS, c, 0, 0xfffffff0u}, w);
                          return out;
                        },
                        "C-SZ-007"},
        StatusViolation{"ExtStatusWithCompactHeaders", false, 0,
                        [](std::uint64_t c) {
                          return chunk(c, DONE, NBD_REPLY_TYPE_BLOCK_STATUS_EXT,
                                       block_status_ext_payload(1, {{8192, 0}}));
                        },
                        "X-S-032"},
        StatusViolation{"CompactStatusWithExtendedHeaders", true, 0,
                        [](std::uint64_t c) {
                          return extended_chunk(c, 0, DONE, NBD_REPLY_TYPE_BLOCK_STATUS,
                                                block_status_payload(1, {{8192, 0}}));
                        },
                        "X-S-031"},
        StatusViolation{"UpperStatusBitsForBaseContext", true, 0,
                        [](std::uint64_t c) {
                          return extended_chunk(
                              c, 0, DONE, NBD_REPLY_TYPE_BLOCK_STATUS_EXT,
                              block_status_ext_payload(1, {{8192, std::uint64_t{1} << 40}}));
                        },
                        "X-S-037"},
        StatusViolation{"ExtendedOffsetMismatch", true, 0,
                        [](std::uint64_t c) {
                          return extended_chunk(c, 512, DONE, NBD_REPLY_TYPE_BLOCK_STATUS_EXT,
                                                block_status_ext_payload(1, {{8192, 0}}));
                        },
                        "X-S-006"},
        StatusViolation{"SimpleReplyWithExtendedHeaders", true, 0,
                        [](std::uint64_t c) { return simple_reply(c, 0); }, "X-S-004"},
        StatusViolation{"StructuredChunkWithExtendedHeaders", true, 0,
                        [](std::uint64_t c) { return chunk(c, DONE, NBD_REPLY_TYPE_NONE, {}); },
                        "X-B-001"}),
    [](const auto& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace nbdref::test
