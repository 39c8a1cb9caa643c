// Requests and replies once NBD_OPT_EXTENDED_HEADERS is agreed
// (proto-extended-headers.md "Request message", "Extended reply chunk message").
#include <gtest/gtest.h>

#include "engine_test_fixture.hpp"

namespace nbdref::test {
namespace {

using namespace wire;
using engine::CommandRequest;
using engine::Phase;

class ExtendedHeaders : public EngineTest {};
NBDREF_ENGINE_TEST_SUITE(ExtendedHeaders);

// X-C-002, X-C-013: 32-byte requests; WRITE sets PAYLOAD_LEN, others do not.
TEST_P(ExtendedHeaders, RequestsAreThirtyTwoBytesAndWriteCarriesPayloadLen) {
  auto h = make();
  h.handshake_extended(std::uint64_t{1} << 40, RW_FLAGS);
  RecordingListener l;
  const ByteVector data(4096, 0x5a);
  CommandRequest w;
  w.type = NBD_CMD_WRITE;
  w.offset = std::uint64_t{1} << 35;
  w.length = data.size();
  w.write_data = data.data();
  w.listener = &l;
  auto cw = h.conn().submit(w);
  ASSERT_TRUE(cw) << cw.error().message;
  CommandRequest z;
  z.type = NBD_CMD_WRITE_ZEROES;
  z.offset = 0;
  z.length = std::uint64_t{1} << 36;  // beyond 32 bits: fine with extended headers
  z.listener = &l;
  auto cz = h.conn().submit(z);
  ASSERT_TRUE(cz) << cz.error().message;

  auto rw = h.request();
  EXPECT_EQ(rw.header.flags, NBD_CMD_FLAG_PAYLOAD_LEN);
  EXPECT_EQ(rw.header.offset, std::uint64_t{1} << 35);
  EXPECT_EQ(rw.payload, data);
  auto rz = h.request();
  EXPECT_EQ(rz.header.flags, 0);  // X-C-016: no PAYLOAD_LEN without a payload
  EXPECT_EQ(rz.header.length, std::uint64_t{1} << 36);

  h.server_sends(extended_chunk(*cz, 0, DONE, NBD_REPLY_TYPE_NONE, {}) +
                 extended_chunk(*cw, std::uint64_t{1} << 35, DONE, NBD_REPLY_TYPE_NONE, {}));
  ASSERT_EQ(l.outcomes.size(), 2u);
  EXPECT_EQ(l.outcomes[0].errnum, 0);
  EXPECT_EQ(l.outcomes[1].errnum, 0);
}

// X-C-016: WRITE must set PAYLOAD_LEN and that flag promises a nonzero
// payload, so an empty write is refused even with strict mode off.
TEST_P(ExtendedHeaders, EmptyWriteIsRefusedWhateverTheStrictMode) {
  engine::ConnectionConfig config;
  config.strict = 0;
  auto h = make(std::move(config));
  h.handshake_extended(1 << 20, RW_FLAGS);
  RecordingListener l;
  CommandRequest w;
  w.type = NBD_CMD_WRITE;
  w.offset = 0;
  w.length = 0;
  w.listener = &l;
  auto c = h.conn().submit(w);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().errnum, EINVAL);
  EXPECT_NE(c.error().message.find("X-C-016"), std::string::npos) << c.error().message;
  EXPECT_TRUE(h.client_silent());
  EXPECT_EQ(h.phase(), Phase::Ready);
}

// X-C-017 (proto-extended-headers.md "Structured reply types"): even with
// extended headers a READ stays within 32 bits -- the client's own bound
// is 64 MiB whatever the strict mode -- while commands without a payload
// may use the 64-bit length.
TEST_P(ExtendedHeaders, ReadLengthStaysWithinThirtyTwoBits) {
  engine::ConnectionConfig config;
  config.strict = 0;
  auto h = make(std::move(config));
  h.handshake_extended(std::uint64_t{1} << 40, RW_FLAGS);
  ASSERT_TRUE(h.session().structured_replies || h.session().extended_headers);
  std::uint8_t buf[512];
  RecordingListener l;
  for (const std::uint64_t length : {std::uint64_t{1} << 32, (std::uint64_t{1} << 32) + 512,
                                     std::uint64_t{1} << 36, std::uint64_t{64 << 20} + 512}) {
    CommandRequest r;
    r.type = NBD_CMD_READ;
    r.offset = 0;
    r.length = length;
    r.read_buffer = buf;
    r.listener = &l;
    auto c = h.conn().submit(r);
    ASSERT_FALSE(c) << "a READ of " << length << " bytes was sent";
    EXPECT_EQ(c.error().errnum, ERANGE) << c.error().message;
  }
  EXPECT_TRUE(h.client_silent());
  CommandRequest t;
  t.type = NBD_CMD_TRIM;
  t.offset = 0;
  t.length = std::uint64_t{1} << 32;
  t.listener = &l;
  auto ct = h.conn().submit(t);
  ASSERT_TRUE(ct) << ct.error().message;
  EXPECT_EQ(h.request().header.length, std::uint64_t{1} << 32);
}

TEST_P(ExtendedHeaders, ReadThroughExtendedChunks) {
  auto h = make();
  h.handshake_extended(1 << 20, RW_FLAGS);
  RecordingListener l;
  ByteVector buf(2048);
  CommandRequest r;
  r.type = NBD_CMD_READ;
  r.offset = 8192;
  r.length = buf.size();
  r.read_buffer = buf.data();
  r.listener = &l;
  auto c = h.conn().submit(r);
  // X-S-006: the header offset is the request's, the payload's is the chunk's.
  h.server_sends(extended_chunk(*c, 8192, 0, NBD_REPLY_TYPE_OFFSET_HOLE, hole_payload(8192, 1024)) +
                 extended_chunk(*c, 8192, DONE, NBD_REPLY_TYPE_OFFSET_DATA,
                                data_payload(9216, ByteVector(1024, 7))));
  ASSERT_EQ(l.outcomes.size(), 1u);
  EXPECT_EQ(l.outcomes[0].errnum, 0) << l.outcomes[0].message;
  EXPECT_EQ(buf[0], 0);
  EXPECT_EQ(buf[1024], 7);
}

// X-C-006: once extended headers are agreed, NBD_OPT_EXPORT_NAME is off limits.
TEST_P(ExtendedHeaders, GoUnsupportedAfterExtendedHeadersFails) {
  auto h = make();
  h.server_sends(newstyle_greeting());
  h.client_flags();
  h.option();
  h.server_sends(ack(NBD_OPT_EXTENDED_HEADERS));
  h.option();
  h.server_sends(option_reply(NBD_OPT_GO, NBD_REP_ERR_UNSUP));
  EXPECT_EQ(h.phase(), Phase::Dead);
  EXPECT_EQ(h.option().option, NBD_OPT_ABORT);
}

}  // namespace
}  // namespace nbdref::test
