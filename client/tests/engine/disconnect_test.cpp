// Ending the transmission phase (proto.md "Terminating the transmission phase").
#include <gtest/gtest.h>

#include "engine_harness.hpp"

namespace nbdref::test {
namespace {

using namespace wire;
using engine::CommandRequest;
using engine::Phase;

CommandRequest flush(engine::CommandListener* l) {
  CommandRequest r;
  r.type = NBD_CMD_FLUSH;
  r.listener = l;
  return r;
}

TEST(Disconnect, DiscIsSentAtOnceWhenIdle) {
  EngineHarness h;
  h.handshake_compact(4096, RW_FLAGS);
  ASSERT_TRUE(h.conn().disconnect(false));
  auto disc = h.request();
  EXPECT_EQ(disc.header.type, NBD_CMD_DISC);
  // C-TX-024: offset and length are zero.
  EXPECT_EQ(disc.header.offset, 0u);
  EXPECT_EQ(disc.header.length, 0u);
  EXPECT_EQ(h.phase(), Phase::Closed);
  EXPECT_TRUE(h.client_silent());  // C-TX-023: nothing after DISC
}

// C-TX-007: DISC waits until the commands in flight are answered.
TEST(Disconnect, DiscWaitsForCommandsInFlight) {
  EngineHarness h;
  h.handshake_compact(4096, RW_FLAGS);
  RecordingListener l;
  auto c = h.conn().submit(flush(&l));
  h.request();
  ASSERT_TRUE(h.conn().disconnect(false));
  EXPECT_TRUE(h.client_silent());
  EXPECT_EQ(h.phase(), Phase::Ready);
  // No new commands once a disconnect is pending.
  auto refused = h.conn().submit(flush(&l));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().errnum, ESHUTDOWN);

  h.server_sends(simple_reply(*c, 0));
  ASSERT_EQ(l.outcomes.size(), 1u);
  EXPECT_EQ(h.request().header.type, NBD_CMD_DISC);
  EXPECT_EQ(h.phase(), Phase::Closed);
}

TEST(Disconnect, AbandonDropsRequestsNotYetSent) {
  EngineHarness h;
  h.handshake_compact(4096, RW_FLAGS);
  RecordingListener l;
  auto sent = h.conn().submit(flush(&l));
  h.request();  // the first left the client
  auto pending1 = h.conn().submit(flush(&l));
  auto pending2 = h.conn().submit(flush(&l));
  ASSERT_TRUE(sent && pending1 && pending2);
  ASSERT_TRUE(h.conn().disconnect(true));
  ASSERT_EQ(l.outcomes.size(), 2u);
  EXPECT_EQ(l.outcomes[0].errnum, ECANCELED);
  EXPECT_EQ(l.outcomes[1].errnum, ECANCELED);
  EXPECT_TRUE(h.client_silent());  // the two flushes never go out
  h.server_sends(simple_reply(*sent, 0));
  EXPECT_EQ(h.request().header.type, NBD_CMD_DISC);
  EXPECT_EQ(h.phase(), Phase::Closed);
}

TEST(Disconnect, AbandonKeepsAPartlySentRequest) {
  EngineHarness h;
  h.handshake_compact(1 << 20, RW_FLAGS);
  RecordingListener l;
  const ByteVector data(64 * 1024, 1);
  CommandRequest w;
  w.type = NBD_CMD_WRITE;
  w.length = data.size();
  w.write_data = data.data();
  w.listener = &l;
  auto c = h.conn().submit(w);
  h.client_silent();
  h.conn().take_output();  // drains everything; emulate a partial send instead:
  auto c2 = h.conn().submit(w);
  h.conn().output_sent(10);  // ten bytes of the second write's header are out
  ASSERT_TRUE(h.conn().disconnect(true));
  EXPECT_TRUE(l.outcomes.empty());  // nothing abandoned: both are committed
  EXPECT_EQ(h.conn().in_flight(), 2u);
  (void)c;
  (void)c2;
}

TEST(Disconnect, EofAfterDiscIsClean) {
  EngineHarness h;
  h.handshake_compact(4096, RW_FLAGS);
  RecordingListener l;
  auto c = h.conn().submit(flush(&l));
  h.conn().disconnect(false);
  h.server_sends(simple_reply(*c, 0));
  h.server_closes();
  EXPECT_EQ(h.phase(), Phase::Closed);
  EXPECT_FALSE(h.conn().error());
}

TEST(Disconnect, NeedsTransmission) {
  EngineHarness h;
  auto r = h.conn().disconnect(false);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().errnum, ENOTCONN);
}

}  // namespace
}  // namespace nbdref::test
