// The state predicates nbd_aio_is_created / connecting / negotiating / ready /
// processing / dead / closed and nbd_connection_state, through a
// connection's life (libnbd(3) and the nbd_aio_is_*(3) pages).
#include <strings.h>

#include <array>
#include <string>

#include "capi_fixture.hpp"

namespace nbdref::test {
namespace {

struct States {
  int created, connecting, negotiating, ready, processing, dead, closed;
};

States states(nbd_handle* h) {
  return {nbd_aio_is_created(h), nbd_aio_is_connecting(h), nbd_aio_is_negotiating(h),
          nbd_aio_is_ready(h),   nbd_aio_is_processing(h), nbd_aio_is_dead(h),
          nbd_aio_is_closed(h)};
}

std::string describe(const States& s) {
  return "created=" + std::to_string(s.created) + " connecting=" + std::to_string(s.connecting) +
         " negotiating=" + std::to_string(s.negotiating) + " ready=" + std::to_string(s.ready) +
         " processing=" + std::to_string(s.processing) + " dead=" + std::to_string(s.dead) +
         " closed=" + std::to_string(s.closed);
}

// Exactly the predicate `which` holds (each predicate is 0 or 1, never -1).
void expect_only(nbd_handle* h, int States::*which) {
  const States s = states(h);
  const std::array<int States::*, 7> all{
      &States::created,    &States::connecting, &States::negotiating, &States::ready,
      &States::processing, &States::dead,       &States::closed};
  for (auto member : all) {
    EXPECT_EQ(s.*member, member == which ? 1 : 0)
        << describe(s) << " / " << nbd_connection_state(h);
  }
}

// nbd_connection_state(3) is descriptive text: it names the state.
void expect_state_text(nbd_handle* h, const char* word) {
  const char* text = nbd_connection_state(h);
  ASSERT_NE(text, nullptr);
  EXPECT_NE(strcasestr(text, word), nullptr) << "state text \"" << text << "\" lacks " << word;
}

TEST(AioStates, NewHandleIsCreatedOnly) {
  auto h = new_handle();
  expect_only(h.get(), &States::created);
  expect_state_text(h.get(), "created");
}

TEST(AioStates, ThroughALifeInOptionMode) {
  auto h = new_handle();
  ASSERT_EQ(nbd_set_opt_mode(h.get(), true), 0);
  ASSERT_EQ(aio_connect_nbdkit(h.get(), {.plugin_args = {"16M"}}), 0) << last_error();
  expect_only(h.get(), &States::connecting);
  ASSERT_TRUE(poll_until(h.get(), [&] { return nbd_aio_is_connecting(h.get()) == 0; }));
  expect_only(h.get(), &States::negotiating);
  expect_state_text(h.get(), "negotiating");

  // An option takes the handle back to connecting until the reply.
  ASSERT_EQ(nbd_aio_opt_go(h.get(), NBD_NULL_COMPLETION), 0) << last_error();
  expect_only(h.get(), &States::connecting);
  ASSERT_TRUE(poll_until(h.get(), [&] { return nbd_aio_is_connecting(h.get()) == 0; }));
  expect_only(h.get(), &States::ready);
  expect_state_text(h.get(), "ready");

  // A write far larger than a socket buffer cannot have been written out
  // yet: the handle is processing it.
  const auto data = pattern(8 << 20, 1);
  const int64_t cookie =
      nbd_aio_pwrite(h.get(), data.data(), data.size(), 0, NBD_NULL_COMPLETION, 0);
  ASSERT_GE(cookie, 1) << last_error();
  expect_only(h.get(), &States::processing);
  EXPECT_NE(nbd_connection_state(h.get()), nullptr);
  EXPECT_EQ(wait_for_command(h.get(), cookie), 1) << last_error();
  expect_only(h.get(), &States::ready);

  ASSERT_EQ(nbd_aio_disconnect(h.get(), 0), 0) << last_error();
  ASSERT_TRUE(poll_until(h.get(), [&] { return nbd_aio_is_closed(h.get()) == 1; }))
      << nbd_connection_state(h.get());
  expect_only(h.get(), &States::closed);
  expect_state_text(h.get(), "closed");
}

// nbd_aio_is_ready(3): "idle or waiting for a reply"; nbd_aio_is_processing(3):
// "In the ready state commands may be in flight (the server is processing
// them), but libnbd is not processing them."
TEST(AioStates, WaitingForAReplyIsReadyNotProcessing) {
  auto h =
      connected_handle({.server_args = {"--filter=delay"}, .plugin_args = {"1M", "delay-read=2"}});
  std::vector<char> buf(512);
  const uint64_t sent_before = nbd_stats_chunks_sent(h.get());
  const int64_t cookie = nbd_aio_pread(h.get(), buf.data(), buf.size(), 0, NBD_NULL_COMPLETION, 0);
  ASSERT_GE(cookie, 1) << last_error();
  // Let the request leave; the server holds the reply back for 2 seconds.
  ASSERT_TRUE(poll_until(
      h.get(), [&] { return nbd_stats_chunks_sent(h.get()) > sent_before; },
      std::chrono::milliseconds(1500)));
  nbd_poll(h.get(), 20);
  ASSERT_EQ(nbd_aio_command_completed(h.get(), cookie), 0) << "the delay filter did not delay";
  EXPECT_EQ(nbd_aio_in_flight(h.get()), 1);
  expect_only(h.get(), &States::ready);
}

TEST(AioStates, ServerEndingTheHandshakeLeavesTheHandleDead) {
  auto h = new_handle();
  Argv argv({"sh", "-c", "exit 0"});
  ASSERT_EQ(nbd_aio_connect_command(h.get(), argv.get()), 0) << last_error();
  ASSERT_TRUE(poll_until(h.get(), [&] { return nbd_aio_is_connecting(h.get()) == 0; }));
  expect_only(h.get(), &States::dead);
  expect_state_text(h.get(), "dead");
  // A dead handle refuses commands but still answers in_flight.
  std::vector<char> buf(512);
  EXPECT_EQ(nbd_aio_pread(h.get(), buf.data(), buf.size(), 0, NBD_NULL_COMPLETION, 0), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL) << last_error();
  EXPECT_EQ(nbd_aio_in_flight(h.get()), 0);
}

TEST(AioStates, ShutdownLeavesTheHandleClosed) {
  auto h = connected_handle();
  expect_only(h.get(), &States::ready);
  ASSERT_EQ(nbd_shutdown(h.get(), 0), 0) << last_error();
  expect_only(h.get(), &States::closed);
  EXPECT_EQ(nbd_aio_in_flight(h.get()), 0);
}

TEST(AioStates, EveryStateHasItsOwnText) {
  auto h = new_handle();
  const std::string created = nbd_connection_state(h.get());
  ASSERT_EQ(connect_nbdkit(h.get()), 0) << last_error();
  const std::string ready = nbd_connection_state(h.get());
  ASSERT_EQ(nbd_shutdown(h.get(), 0), 0);
  const std::string closed = nbd_connection_state(h.get());
  EXPECT_FALSE(created.empty());
  EXPECT_NE(created, ready);
  EXPECT_NE(ready, closed);
  EXPECT_NE(created, closed);
}

}  // namespace
}  // namespace nbdref::test
