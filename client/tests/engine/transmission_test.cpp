// Commands and their replies, as byte exchanges (proto.md "Transmission",
// "Structured reply types", "Request types").
#include <cstring>
#include <numeric>

#include <gtest/gtest.h>

#include "engine_test_fixture.hpp"
#include "support/hex.hpp"

namespace nbdref::test {
namespace {

using namespace wire;
using engine::CommandRequest;
using engine::Phase;
using engine::ReadChunk;

CommandRequest read_request(std::uint8_t* buf, std::uint64_t offset, std::uint64_t length,
                            engine::CommandListener* l, std::uint32_t flags = 0) {
  CommandRequest r;
  r.type = NBD_CMD_READ;
  r.offset = offset;
  r.length = length;
  r.read_buffer = buf;
  r.listener = l;
  r.flags = flags;
  return r;
}

CommandRequest write_request(const std::uint8_t* data, std::uint64_t offset, std::uint64_t length,
                             engine::CommandListener* l, std::uint32_t flags = 0) {
  CommandRequest r;
  r.type = NBD_CMD_WRITE;
  r.offset = offset;
  r.length = length;
  r.write_data = data;
  r.listener = l;
  r.flags = flags;
  return r;
}

CommandRequest simple_command(std::uint16_t type, std::uint64_t offset, std::uint64_t length,
                              engine::CommandListener* l, std::uint32_t flags = 0) {
  CommandRequest r;
  r.type = type;
  r.offset = offset;
  r.length = length;
  r.listener = l;
  r.flags = flags;
  return r;
}

ByteVector pattern(std::size_t n, std::uint8_t seed) {
  ByteVector v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(seed + i * 7);
  return v;
}

class Transmission : public EngineTest {};
NBDREF_ENGINE_TEST_SUITE(Transmission);

TEST_P(Transmission, SimpleReplyReadFillsTheBuffer) {
  auto h = make();
  h.handshake_compact(1 << 20, RW_FLAGS, false);
  RecordingListener l;
  ByteVector buf(512, 0xee);
  auto cookie = h.conn().submit(read_request(buf.data(), 4096, 512, &l));
  ASSERT_TRUE(cookie) << cookie.error().message;
  EXPECT_GE(*cookie, 1u);

  auto req = h.request();
  EXPECT_EQ(req.header.type, NBD_CMD_READ);
  EXPECT_EQ(req.header.cookie, *cookie);
  EXPECT_EQ(req.header.offset, 4096u);
  EXPECT_EQ(req.header.length, 512u);

  const auto data = pattern(512, 3);
  h.server_sends(simple_reply(*cookie, 0, data));
  ASSERT_EQ(l.outcomes.size(), 1u);
  EXPECT_EQ(l.outcomes[0].errnum, 0);
  EXPECT_EQ(buf, data);
  // One callback covering the whole buffer.
  ASSERT_EQ(l.chunks.size(), 1u);
  EXPECT_EQ(l.chunks[0].offset, 4096u);
  EXPECT_EQ(l.chunks[0].kind, ReadChunk::Data);
  EXPECT_EQ(h.conn().in_flight(), 0u);
}

TEST_P(Transmission, SimpleReplyErrorFailsOnlyThatCommand) {
  auto h = make();
  h.handshake_compact(1 << 20, RW_FLAGS, false);
  RecordingListener l;
  ByteVector buf(512);
  auto c1 = h.conn().submit(read_request(buf.data(), 0, 512, &l));
  auto c2 = h.conn().submit(simple_command(NBD_CMD_FLUSH, 0, 0, &l));
  // S-TX-034: no payload after a failed read.
  h.server_sends(simple_reply(*c1, NBD_EIO) + simple_reply(*c2, 0));
  ASSERT_EQ(l.outcomes.size(), 2u);
  EXPECT_EQ(l.outcomes[0].errnum, EIO);
  EXPECT_NE(l.outcomes[0].message.find("NBD_EIO"), std::string::npos);
  EXPECT_EQ(l.outcomes[1].errnum, 0);
  EXPECT_EQ(h.phase(), Phase::Ready);
}

// C-ERR-001: an unknown error value reads as EINVAL and the connection lives.
TEST_P(Transmission, UnknownErrorValueIsEinval) {
  auto h = make();
  h.handshake_compact(1 << 20, RW_FLAGS, false);
  RecordingListener l;
  auto c = h.conn().submit(simple_command(NBD_CMD_FLUSH, 0, 0, &l));
  h.server_sends(simple_reply(*c, 4242));
  ASSERT_EQ(l.outcomes.size(), 1u);
  EXPECT_EQ(l.outcomes[0].errnum, EINVAL);
  EXPECT_EQ(h.phase(), Phase::Ready);
}

TEST_P(Transmission, WriteSendsHeaderThenPayload) {
  auto h = make();
  h.handshake_compact(1 << 20, RW_FLAGS);
  RecordingListener l;
  const auto small = pattern(100, 1);
  const auto large = pattern(64 * 1024, 2);
  auto c1 = h.conn().submit(write_request(small.data(), 0, small.size(), &l, NBD_CMD_FLAG_FUA));
  auto c2 = h.conn().submit(write_request(large.data(), 4096, large.size(), &l));
  auto r1 = h.request();
  EXPECT_EQ(r1.header.type, NBD_CMD_WRITE);
  EXPECT_EQ(r1.header.flags, NBD_CMD_FLAG_FUA);
  EXPECT_EQ(r1.payload, small);  // C-TX-021
  auto r2 = h.request();
  EXPECT_EQ(r2.header.cookie, *c2);
  EXPECT_EQ(r2.payload, large);
  h.server_sends(simple_reply(*c2, 0) + simple_reply(*c1, 0));
  ASSERT_EQ(l.outcomes.size(), 2u);
  EXPECT_EQ(l.outcomes[0].cookie, *c2);
  EXPECT_EQ(l.outcomes[1].cookie, *c1);
}

TEST_P(Transmission, LargeWritesAreSentFromTheCallersBuffer) {
  auto h = make();
  h.handshake_compact(1 << 20, RW_FLAGS);
  const auto large = pattern(256 * 1024, 9);
  ASSERT_TRUE(h.conn().submit(write_request(large.data(), 0, large.size(), nullptr)));
  iovec segments[8];
  const std::size_t n = h.conn().output_segments(segments);
  ASSERT_EQ(n, 2u);
  EXPECT_EQ(segments[0].iov_len, COMPACT_REQUEST_SIZE);
  EXPECT_EQ(segments[1].iov_base, large.data());  // no copy
  EXPECT_EQ(segments[1].iov_len, large.size());
}

TEST_P(Transmission, ManyRequestsLeaveInOneGather) {
  auto h = make();
  h.handshake_compact(1 << 20, RW_FLAGS);
  h.client_silent();
  for (int i = 0; i < 16; ++i) {
    ASSERT_TRUE(h.conn().submit(simple_command(NBD_CMD_FLUSH, 0, 0, nullptr)));
  }
  iovec segments[4];
  EXPECT_EQ(h.conn().output_segments(segments), 1u);
  EXPECT_EQ(segments[0].iov_len, 16 * COMPACT_REQUEST_SIZE);
}

TEST_P(Transmission, StructuredReadReassemblesChunksInAnyOrder) {
  auto h = make();
  h.handshake_compact(1 << 20, RW_FLAGS | NBD_FLAG_SEND_DF);
  RecordingListener l;
  ByteVector buf(3000, 0xee);
  auto c = h.conn().submit(read_request(buf.data(), 1000, 3000, &l));
  ASSERT_TRUE(c);
  const auto tail = pattern(1000, 5);
  const auto head = pattern(1000, 6);
  // C-SR-011: chunks placed by offset: tail first, a hole in the middle, then the head.
  h.server_sends(chunk(*c, 0, NBD_REPLY_TYPE_OFFSET_DATA, data_payload(3000, tail)) +
                 chunk(*c, 0, NBD_REPLY_TYPE_OFFSET_HOLE, hole_payload(2000, 1000)) +
                 chunk(*c, DONE, NBD_REPLY_TYPE_OFFSET_DATA, data_payload(1000, head)));
  ASSERT_EQ(l.outcomes.size(), 1u);
  EXPECT_EQ(l.outcomes[0].errnum, 0) << l.outcomes[0].message;
  EXPECT_TRUE(std::equal(head.begin(), head.end(), buf.begin()));
  EXPECT_TRUE(std::all_of(buf.begin() + 1000, buf.begin() + 2000, [](auto b) { return b == 0; }));
  EXPECT_TRUE(std::equal(tail.begin(), tail.end(), buf.begin() + 2000));
  ASSERT_EQ(l.chunks.size(), 3u);
  EXPECT_EQ(l.chunks[0].offset, 3000u);
  EXPECT_EQ(l.chunks[1].kind, ReadChunk::Hole);
  EXPECT_EQ(l.chunks[1].data.size(), 1000u);
}

TEST_P(Transmission, NoneChunkEndsASuccessfulRead) {
  auto h = make();
  h.handshake_compact(4096, RW_FLAGS);
  RecordingListener l;
  ByteVector buf(512);
  auto c = h.conn().submit(read_request(buf.data(), 0, 512, &l));
  h.server_sends(chunk(*c, 0, NBD_REPLY_TYPE_OFFSET_DATA, data_payload(0, pattern(512, 1))) +
                 chunk(*c, DONE, NBD_REPLY_TYPE_NONE, {}));
  ASSERT_EQ(l.outcomes.size(), 1u);
  EXPECT_EQ(l.outcomes[0].errnum, 0);
}

TEST_P(Transmission, ChunkCallbackCanFailTheRead) {
  auto h = make();
  h.handshake_compact(4096, RW_FLAGS);
  RecordingListener l;
  l.fail_chunks_with = EBADMSG;
  ByteVector buf(512);
  auto c = h.conn().submit(read_request(buf.data(), 0, 512, &l));
  h.server_sends(chunk(*c, 0, NBD_REPLY_TYPE_OFFSET_DATA, data_payload(0, pattern(256, 1))) +
                 chunk(*c, DONE, NBD_REPLY_TYPE_OFFSET_DATA, data_payload(256, pattern(256, 2))));
  ASSERT_EQ(l.outcomes.size(), 1u);
  EXPECT_EQ(l.outcomes[0].errnum, EBADMSG);
  // Later chunks still reach the callback, told of the earlier error.
  ASSERT_EQ(l.chunks.size(), 2u);
  EXPECT_EQ(l.chunks[1].error_in, EBADMSG);
  EXPECT_EQ(h.phase(), Phase::Ready);
}

TEST_P(Transmission, ErrorChunkFailsTheCommandNotTheConnection) {
  auto h = make();
  h.handshake_compact(4096, RW_FLAGS);
  RecordingListener l;
  auto c = h.conn().submit(simple_command(NBD_CMD_TRIM, 0, 4096, &l));
  h.server_sends(chunk(*c, DONE, NBD_REPLY_TYPE_ERROR, error_payload(NBD_EPERM, "read-only")));
  ASSERT_EQ(l.outcomes.size(), 1u);
  EXPECT_EQ(l.outcomes[0].errnum, EPERM);
  EXPECT_NE(l.outcomes[0].message.find("read-only"), std::string::npos);
  EXPECT_EQ(h.phase(), Phase::Ready);
}

TEST_P(Transmission, ErrorOffsetReachesTheReadCallback) {
  auto h = make();
  h.handshake_compact(8192, RW_FLAGS);
  RecordingListener l;
  ByteVector buf(4096);
  auto c = h.conn().submit(read_request(buf.data(), 4096, 4096, &l));
  h.server_sends(
      chunk(*c, 0, NBD_REPLY_TYPE_OFFSET_DATA, data_payload(4096, pattern(1024, 1))) +
      chunk(*c, DONE, NBD_REPLY_TYPE_ERROR_OFFSET, error_payload(NBD_EIO, "bad sector", 5120)));
  ASSERT_EQ(l.outcomes.size(), 1u);
  EXPECT_EQ(l.outcomes[0].errnum, EIO);
  EXPECT_NE(l.outcomes[0].message.find("5120"), std::string::npos);
  ASSERT_EQ(l.chunks.size(), 2u);
  EXPECT_EQ(l.chunks[1].kind, ReadChunk::Error);
  EXPECT_EQ(l.chunks[1].offset, 5120u);
  EXPECT_EQ(l.chunks[1].error_in, EIO);
}

// C-SR-009: an unknown error type fails the reply but the connection goes on.
TEST_P(Transmission, UnknownErrorChunkTypeFailsOnlyTheCommand) {
  auto h = make();
  h.handshake_compact(4096, RW_FLAGS);
  RecordingListener l;
  auto c = h.conn().submit(simple_command(NBD_CMD_FLUSH, 0, 0, &l));
  h.server_sends(chunk(*c, DONE, 0x8077, hex("00000005 0002 6869 ffffffff")));
  ASSERT_EQ(l.outcomes.size(), 1u);
  EXPECT_EQ(l.outcomes[0].errnum, EIO);
  EXPECT_EQ(h.phase(), Phase::Ready);
}

// C-TX-006: a server that is shutting down gets a soft disconnect.
TEST_P(Transmission, ShutdownErrorLeadsToDisconnect) {
  auto h = make();
  h.handshake_compact(4096, RW_FLAGS);
  RecordingListener l;
  auto c = h.conn().submit(simple_command(NBD_CMD_FLUSH, 0, 0, &l));
  h.request();
  h.server_sends(simple_reply(*c, NBD_ESHUTDOWN));
  EXPECT_EQ(l.outcomes[0].errnum, ESHUTDOWN);
  EXPECT_EQ(h.request().header.type, NBD_CMD_DISC);
  EXPECT_EQ(h.phase(), Phase::Closed);
  auto refused = h.conn().submit(simple_command(NBD_CMD_FLUSH, 0, 0, &l));
  ASSERT_FALSE(refused);
}

TEST_P(Transmission, RepliesInReverseOrderWithManyInFlight) {
  auto h = make();
  h.handshake_compact(1 << 24, RW_FLAGS);
  RecordingListener l;
  constexpr int N = 1000;
  std::vector<ByteVector> bufs(N, ByteVector(512));
  std::vector<std::uint64_t> cookies;
  for (int i = 0; i < N; ++i) {
    auto c = h.conn().submit(read_request(bufs[i].data(), std::uint64_t(i) * 512, 512, &l));
    ASSERT_TRUE(c);
    cookies.push_back(*c);
  }
  // C-TX-001: every cookie in flight is distinct.
  EXPECT_EQ(std::set<std::uint64_t>(cookies.begin(), cookies.end()).size(), std::size_t{N});
  EXPECT_EQ(h.conn().in_flight(), std::size_t{N});
  ByteVector replies;
  for (int i = N - 1; i >= 0; --i) {
    replies = replies + chunk(cookies[i], DONE, NBD_REPLY_TYPE_OFFSET_DATA,
                              data_payload(std::uint64_t(i) * 512, pattern(512, std::uint8_t(i))));
  }
  h.server_sends(replies);
  ASSERT_EQ(l.outcomes.size(), std::size_t{N});
  for (int i = 0; i < N; ++i) EXPECT_EQ(bufs[i], pattern(512, std::uint8_t(i))) << i;
  EXPECT_EQ(h.conn().in_flight(), 0u);
}

TEST_P(Transmission, LargeReadPayloadIsReceivedDirectlyIntoTheBuffer) {
  auto h = make();
  h.handshake_compact(1 << 20, RW_FLAGS, false);
  RecordingListener l;
  ByteVector buf(256 * 1024);
  auto c = h.conn().submit(read_request(buf.data(), 0, buf.size(), &l));
  EXPECT_EQ(h.request().header.length, buf.size());  // the server reads it first
  const auto header = simple_reply(*c, 0);
  h.conn().feed(header);
  auto space = h.conn().input_space();
  EXPECT_EQ(space.data(), buf.data());
  EXPECT_EQ(space.size(), buf.size());
  const auto data = pattern(buf.size(), 4);
  std::memcpy(space.data(), data.data(), 100 * 1024);
  h.conn().input_received(100 * 1024);
  space = h.conn().input_space();
  EXPECT_EQ(space.data(), buf.data() + 100 * 1024);
  std::memcpy(space.data(), data.data() + 100 * 1024, space.size());
  h.conn().input_received(space.size());
  ASSERT_EQ(l.outcomes.size(), 1u);
  EXPECT_EQ(buf, data);
}

// ReplyReader::buffered_read_limit: with only large reads in flight, the
// input buffer takes just the next reply's header, so that no data of it
// lands there to be copied.
TEST_P(Transmission, WithOnlyLargeReadsInFlightOnlyTheSimpleReplyHeaderIsBuffered) {
  auto h = make();
  h.handshake_compact(1 << 20, RW_FLAGS, false);
  RecordingListener l;
  ByteVector first(128 * 1024), second(128 * 1024);
  auto c = h.conn().submit(read_request(first.data(), 0, first.size(), &l));
  h.conn().submit(read_request(second.data(), first.size(), second.size(), &l));
  h.request();  // the server has both requests
  h.request();
  auto space = h.conn().input_space();
  EXPECT_EQ(space.size(), SIMPLE_REPLY_SIZE);
  const auto header = simple_reply(*c, 0);
  std::memcpy(space.data(), header.data(), header.size());
  h.conn().input_received(header.size());
  space = h.conn().input_space();
  EXPECT_EQ(space.data(), first.data());
  EXPECT_EQ(space.size(), first.size());
}

TEST_P(Transmission, WithOnlyLargeReadsInFlightOnlyTheChunkHeaderAndOffsetAreBuffered) {
  auto h = make();
  h.handshake_compact(1 << 20, RW_FLAGS);
  RecordingListener l;
  ByteVector buf(64 * 1024);
  auto c = h.conn().submit(read_request(buf.data(), 0, buf.size(), &l));
  h.request();  // the server has it
  auto space = h.conn().input_space();
  EXPECT_EQ(space.size(), STRUCTURED_REPLY_HEADER_SIZE + OFFSET_DATA_PREFIX_SIZE);
  const auto data = pattern(buf.size(), 6);
  const auto reply = chunk(*c, DONE, NBD_REPLY_TYPE_OFFSET_DATA, data_payload(0, data));
  std::memcpy(space.data(), reply.data(), space.size());
  h.conn().input_received(space.size());
  space = h.conn().input_space();
  EXPECT_EQ(space.data(), buf.data());
  ASSERT_EQ(space.size(), buf.size());
  std::memcpy(space.data(), data.data(), data.size());
  h.conn().input_received(data.size());
  ASSERT_EQ(l.outcomes.size(), 1u);
  EXPECT_EQ(l.outcomes[0].errnum, 0);
  EXPECT_EQ(buf, data);
}

TEST_P(Transmission, ASmallCommandInFlightLetsTheInputBufferFill) {
  auto h = make();
  h.handshake_compact(1 << 20, RW_FLAGS);
  RecordingListener l;
  ByteVector large(128 * 1024), small(4096);
  h.conn().submit(read_request(large.data(), 0, large.size(), &l));
  h.conn().submit(read_request(small.data(), large.size(), small.size(), &l));
  EXPECT_GT(h.conn().input_space().size(), 4096u);
}

TEST_P(Transmission, EofWithCommandsInFlightFailsThemAll) {
  auto h = make();
  h.handshake_compact(1 << 20, RW_FLAGS);
  RecordingListener l;
  ByteVector buf(512);
  h.conn().submit(read_request(buf.data(), 0, 512, &l));
  h.conn().submit(simple_command(NBD_CMD_FLUSH, 0, 0, &l));
  h.server_closes();
  EXPECT_EQ(h.phase(), Phase::Dead);
  ASSERT_EQ(l.outcomes.size(), 2u);
  for (const auto& o : l.outcomes) {
    EXPECT_EQ(o.errnum, ECONNRESET);
    EXPECT_NE(o.message.find("2 command(s) in flight"), std::string::npos) << o.message;
  }
}

TEST_P(Transmission, PreadInitializeZeroesTheBuffer) {
  auto h = make();
  h.handshake_compact(1 << 20, RW_FLAGS);
  ByteVector buf(512, 0xff);
  h.conn().submit(read_request(buf.data(), 0, 512, nullptr));
  EXPECT_TRUE(std::all_of(buf.begin(), buf.end(), [](auto b) { return b == 0; }));
}

// ---- violations: the connection dies, every command in flight fails once ----

struct ReadViolation {
  const char* name;
  // Given the READ's cookie (offset 4096, length 1024), what the server sends.
  ByteVector (*reply)(std::uint64_t cookie);
  const char* clause;
};

class ReadViolations : public ::testing::TestWithParam<ReadViolation> {};

TEST_P(ReadViolations, KillTheConnectionAndFailEveryCommand) {
  EngineHarness h;
  h.handshake_compact(1 << 20, RW_FLAGS | NBD_FLAG_SEND_DF);
  RecordingListener l;
  ByteVector buf(1024);
  auto c = h.conn().submit(
      read_request(buf.data(), 4096, 1024, &l,
                   std::string(GetParam().name) == "SecondChunkWithDf" ? NBD_CMD_FLAG_DF : 0));
  auto other = h.conn().submit(simple_command(NBD_CMD_FLUSH, 0, 0, &l));
  ASSERT_TRUE(c && other);
  h.server_sends(GetParam().reply(*c));
  EXPECT_EQ(h.phase(), Phase::Dead);
  EXPECT_EQ(h.error_errno(), EPROTO);
  EXPECT_NE(h.error_message().find(GetParam().clause), std::string::npos) << h.error_message();
  ASSERT_EQ(l.outcomes.size(), 2u);  // both, exactly once
  EXPECT_EQ(l.outcomes[0].errnum, EPROTO);
  EXPECT_EQ(l.outcomes[1].errnum, EPROTO);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ReadViolations,
    ::testing::Values(
        ReadViolation{"UnknownCookie", [](std::uint64_t c) { return simple_reply(c + 100, 0); },
                      "S-TX-002"},
        ReadViolation{"SimpleReplyToStructuredRead",
                      [](std::uint64_t c) { return simple_reply(c, 0, ByteVector(1024)); },
                      "S-SR-004"},
        ReadViolation{"ChunkBeforeRequest",
                      [](std::uint64_t c) {
                        return chunk(c, DONE, NBD_REPLY_TYPE_OFFSET_DATA,
                                     data_payload(4000, ByteVector(100)));
                      },
                      "S-SR-021"},
        ReadViolation{"ChunkPastRequest",
                      [](std::uint64_t c) {
                        return chunk(c, DONE, NBD_REPLY_TYPE_OFFSET_HOLE, hole_payload(5000, 200));
                      },
                      "S-SR-021"},
        ReadViolation{"ChunkLongerThanRequest",
                      [](std::uint64_t c) {
                        return chunk(c, DONE, NBD_REPLY_TYPE_OFFSET_DATA,
                                     data_payload(4096, ByteVector(2048)));
                      },
                      "S-SR-021"},
        ReadViolation{"OverlappingChunks",
                      [](std::uint64_t c) {
                        return chunk(c, 0, NBD_REPLY_TYPE_OFFSET_DATA,
                                     data_payload(4096, ByteVector(600))) +
                               chunk(c, DONE, NBD_REPLY_TYPE_OFFSET_HOLE, hole_payload(4600, 500));
                      },
                      "S-SR-022"},
        ReadViolation{"GapAtDone",
                      [](std::uint64_t c) {
                        return chunk(c, DONE, NBD_REPLY_TYPE_OFFSET_DATA,
                                     data_payload(4096, ByteVector(1000)));
                      },
                      "S-SR-045"},
        ReadViolation{"SecondChunkWithDf",
                      [](std::uint64_t c) {
                        return chunk(c, 0, NBD_REPLY_TYPE_OFFSET_DATA,
                                     data_payload(4096, ByteVector(512))) +
                               chunk(c, DONE, NBD_REPLY_TYPE_OFFSET_DATA,
                                     data_payload(4608, ByteVector(512)));
                      },
                      "S-SR-052"},
        ReadViolation{"ZeroLengthHole",
                      [](std::uint64_t c) {
                        return chunk(c, DONE, NBD_REPLY_TYPE_OFFSET_HOLE, hole_payload(4096, 0));
                      },
                      "S-SR-025"},
        ReadViolation{"HoleWithWrongLength",
                      [](std::uint64_t c) {
                        return chunk(c, DONE, NBD_REPLY_TYPE_OFFSET_HOLE, ByteVector(13));
                      },
                      "S-SR-024"},
        ReadViolation{"DataChunkWithoutData",
                      [](std::uint64_t c) {
                        return chunk(c, DONE, NBD_REPLY_TYPE_OFFSET_DATA, data_payload(4096, {}));
                      },
                      "S-SR-020"},
        ReadViolation{"NoneWithoutDone",
                      [](std::uint64_t c) { return chunk(c, 0, NBD_REPLY_TYPE_NONE, {}); },
                      "S-SR-015"},
        ReadViolation{
            "NoneWithPayload",
            [](std::uint64_t c) { return chunk(c, DONE, NBD_REPLY_TYPE_NONE, ByteVector(4)); },
            "S-SR-018"},
        ReadViolation{"UnknownChunkType",
                      [](std::uint64_t c) { return chunk(c, DONE, 42, ByteVector(4)); },
                      "C-SR-007"},
        ReadViolation{"BlockStatusForRead",
                      [](std::uint64_t c) {
                        return chunk(c, DONE, NBD_REPLY_TYPE_BLOCK_STATUS,
                                     block_status_payload(1, {{1024, 0}}));
                      },
                      "S-SR-026"},
        ReadViolation{"ErrorChunkWithZeroError",
                      [](std::uint64_t c) {
                        return chunk(c, DONE, NBD_REPLY_TYPE_ERROR, error_payload(0, "x"));
                      },
                      "S-SR-028"},
        ReadViolation{"ErrorMessageBeyondChunk",
                      [](std::uint64_t c) {
                        return chunk(c, DONE, NBD_REPLY_TYPE_ERROR, hex("00000005 0010 41"));
                      },
                      "S-SR-027"},
        ReadViolation{"ErrorOffsetOutsideRequest",
                      [](std::uint64_t c) {
                        return chunk(c, DONE, NBD_REPLY_TYPE_ERROR_OFFSET,
                                     error_payload(NBD_EIO, "", 9000));
                      },
                      "S-SR-032"},
        ReadViolation{
            "ExtendedChunkWithoutNegotiation",
            [](std::uint64_t c) { return extended_chunk(c, 4096, DONE, NBD_REPLY_TYPE_NONE, {}); },
            "X-B-001"},
        ReadViolation{"GarbageMagic",
                      [](std::uint64_t) { return hex("deadbeef 00000000 00000000 00000000"); },
                      "reply magic"}),
    [](const auto& p) { return std::string(p.param.name); });

TEST(TransmissionViolation, StructuredChunkWithoutNegotiationKills) {
  EngineHarness h;
  h.handshake_compact(4096, RW_FLAGS, false);
  RecordingListener l;
  auto c = h.conn().submit(simple_command(NBD_CMD_FLUSH, 0, 0, &l));
  h.server_sends(chunk(*c, DONE, NBD_REPLY_TYPE_NONE, {}));
  EXPECT_EQ(h.phase(), Phase::Dead);
  EXPECT_NE(h.error_message().find("S-SR-002"), std::string::npos) << h.error_message();
  EXPECT_EQ(l.outcomes.size(), 1u);
}

TEST(TransmissionViolation, ErrorOffsetOnFlushKills) {
  EngineHarness h;
  h.handshake_compact(4096, RW_FLAGS);
  RecordingListener l;
  auto c = h.conn().submit(simple_command(NBD_CMD_FLUSH, 0, 0, &l));
  h.server_sends(chunk(*c, DONE, NBD_REPLY_TYPE_ERROR_OFFSET, error_payload(NBD_EIO, "", 0)));
  EXPECT_EQ(h.phase(), Phase::Dead);
  EXPECT_NE(h.error_message().find("S-SR-036"), std::string::npos) << h.error_message();
}

TEST(TransmissionViolation, ChunkAfterDoneIsAnUnknownCookie) {
  EngineHarness h;
  h.handshake_compact(4096, RW_FLAGS);
  RecordingListener l;
  auto c = h.conn().submit(simple_command(NBD_CMD_FLUSH, 0, 0, &l));
  h.server_sends(chunk(*c, DONE, NBD_REPLY_TYPE_NONE, {}) +
                 chunk(*c, DONE, NBD_REPLY_TYPE_NONE, {}));
  EXPECT_EQ(l.outcomes.size(), 1u);
  EXPECT_EQ(l.outcomes[0].errnum, 0);
  EXPECT_EQ(h.phase(), Phase::Dead);
  EXPECT_NE(h.error_message().find("S-TX-002"), std::string::npos);
}

// S-TX-002: a reply can only echo a request the server has read. One for a
// request still in the client's output queue is refused, and the command
// fails once, before anyone could free the buffers the queue still reads
// (found by the transmission fuzzer; its inputs replay from corpus/).
TEST(TransmissionViolation, ReplyBeforeTheRequestWasSentKills) {
  EngineHarness h;
  h.handshake_compact(1 << 20, RW_FLAGS, false);
  RecordingListener l;
  const ByteVector data(64 * 1024, 0x5a);
  CommandRequest w = simple_command(NBD_CMD_WRITE, 0, data.size(), &l);
  w.write_data = data.data();
  auto c = h.conn().submit(w);
  ASSERT_TRUE(c);
  // Nothing was taken from the client's output: the server cannot have it.
  h.conn().feed(simple_reply(*c, 0));
  EXPECT_EQ(h.phase(), Phase::Dead);
  EXPECT_NE(h.error_message().find("before the client had finished sending that request"),
            std::string::npos)
      << h.error_message();
  ASSERT_EQ(l.outcomes.size(), 1u);
  EXPECT_NE(l.outcomes[0].errnum, 0);
}

}  // namespace
}  // namespace nbdref::test

namespace nbdref::test {
namespace {

TEST(TransmissionStats, CountBytesAndMessagesBothWays) {
  EngineHarness h;
  h.handshake_compact(4096, RW_FLAGS);
  const auto before = h.conn().stats();
  // greeting + EXTENDED_HEADERS reply + STRUCTURED_REPLY ack + GO info + GO ack
  EXPECT_EQ(before.chunks_received, 5u);
  // EXTENDED_HEADERS, STRUCTURED_REPLY, GO (client flags carry no magic)
  EXPECT_EQ(before.chunks_sent, 3u);
  EXPECT_EQ(before.bytes_sent, 4u + 16 + 16 + 16 + 6 + 2);
  RecordingListener l;
  ByteVector buf(512);
  engine::CommandRequest r;
  r.type = NBD_CMD_READ;
  r.length = 512;
  r.read_buffer = buf.data();
  r.listener = &l;
  auto c = h.conn().submit(r);
  h.request();
  const auto reply = chunk(*c, DONE, NBD_REPLY_TYPE_OFFSET_DATA, data_payload(0, ByteVector(512)));
  h.server_sends(reply);
  const auto after = h.conn().stats();
  EXPECT_EQ(after.chunks_sent, before.chunks_sent + 1);
  EXPECT_EQ(after.chunks_received, before.chunks_received + 1);
  EXPECT_EQ(after.bytes_sent, before.bytes_sent + COMPACT_REQUEST_SIZE);
  EXPECT_EQ(after.bytes_received, before.bytes_received + reply.size());
}

}  // namespace
}  // namespace nbdref::test
