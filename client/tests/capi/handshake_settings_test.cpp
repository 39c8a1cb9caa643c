// Settings that shape the handshake and what it learns: handshake flags and
// nbd_get_protocol, structured replies, extended headers, block sizes, full
// info (canonical name and description), and nbd_set_pread_initialize.
#include "capi_fixture.hpp"

namespace nbdref::test {
namespace {

constexpr int64_t kSize = int64_t{1} << 20;

std::string take(char* s) {
  std::string r = s ? s : "(null)";
  std::free(s);
  return r;
}

// ---- handshake flags ----

TEST(HandshakeFlags, AllByDefaultThenWhatWasAgreed) {
  auto h = new_handle();
  EXPECT_EQ(nbd_get_handshake_flags(h.get()), LIBNBD_HANDSHAKE_FLAG_MASK);
  ASSERT_EQ(connect_nbdkit(h.get()), 0) << last_error();
  // nbdkit offers both flags.
  EXPECT_EQ(nbd_get_handshake_flags(h.get()),
            LIBNBD_HANDSHAKE_FLAG_FIXED_NEWSTYLE | LIBNBD_HANDSHAKE_FLAG_NO_ZEROES);
  EXPECT_STREQ(nbd_get_protocol(h.get()), "newstyle-fixed");
}

TEST(HandshakeFlags, AgreedFlagsAreWhatBothSidesOffer) {
  // nbdkit offering fixed newstyle but not "no zeroes".
  auto h = connected_handle({.server_args = {"--mask-handshake=1"}});
  EXPECT_EQ(nbd_get_handshake_flags(h.get()), LIBNBD_HANDSHAKE_FLAG_FIXED_NEWSTYLE);
  EXPECT_STREQ(nbd_get_protocol(h.get()), "newstyle-fixed");
  EXPECT_EQ(nbd_get_size(h.get()), kSize);
}

TEST(HandshakeFlags, NoFlagsStillConnectsAsPlainNewstyle) {
  auto h = new_handle();
  ASSERT_EQ(nbd_set_handshake_flags(h.get(), 0), 0);
  EXPECT_EQ(nbd_get_handshake_flags(h.get()), 0u);
  ASSERT_EQ(connect_nbdkit(h.get()), 0) << last_error();
  EXPECT_STREQ(nbd_get_protocol(h.get()), "newstyle");
  EXPECT_EQ(nbd_get_handshake_flags(h.get()), 0u);
  // Without fixed newstyle no option but the export name can be sent.
  EXPECT_EQ(nbd_get_structured_replies_negotiated(h.get()), 0);
  EXPECT_EQ(nbd_get_size(h.get()), kSize);
  const auto out = pattern(4096, 1);
  std::vector<char> in(4096);
  ASSERT_EQ(nbd_pwrite(h.get(), out.data(), out.size(), 0, 0), 0) << last_error();
  ASSERT_EQ(nbd_pread(h.get(), in.data(), in.size(), 0, 0), 0) << last_error();
  EXPECT_EQ(in, out);
}

TEST(HandshakeFlags, ServerWithoutFixedNewstyle) {
  auto h = connected_handle({.server_args = {"--mask-handshake=0"}});
  EXPECT_STREQ(nbd_get_protocol(h.get()), "newstyle");
  EXPECT_EQ(nbd_get_handshake_flags(h.get()), 0u);
  EXPECT_EQ(nbd_get_size(h.get()), kSize);
}

TEST(HandshakeFlags, OldstyleServer) {
  auto h = new_handle();
  // Option mode has no effect on an oldstyle server: straight to ready.
  ASSERT_EQ(nbd_set_opt_mode(h.get(), true), 0);
  ASSERT_EQ(connect_nbdkit(h.get(), {.server_args = {"--oldstyle"}}), 0) << last_error();
  EXPECT_STREQ(nbd_get_protocol(h.get()), "oldstyle");
  EXPECT_EQ(nbd_aio_is_ready(h.get()), 1) << nbd_connection_state(h.get());
  EXPECT_EQ(nbd_get_size(h.get()), kSize);
}

TEST(HandshakeFlags, UnknownBitsRefusedAndFrozenOnceConnecting) {
  auto h = new_handle();
  EXPECT_EQ(nbd_set_handshake_flags(h.get(), 4), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_get_handshake_flags(h.get()), LIBNBD_HANDSHAKE_FLAG_MASK);
  ASSERT_EQ(connect_nbdkit(h.get()), 0) << last_error();
  EXPECT_EQ(nbd_set_handshake_flags(h.get(), 0), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
}

TEST(Protocol, UnknownBeforeConnecting) {
  auto h = new_handle();
  EXPECT_EQ(nbd_get_protocol(h.get()), nullptr);
  EXPECT_NE(nbd_get_errno(), 0);
}

// ---- structured replies ----

TEST(StructuredReplies, RequestedAndNegotiatedByDefault) {
  auto h = new_handle();
  EXPECT_EQ(nbd_get_request_structured_replies(h.get()), 1);
  EXPECT_EQ(nbd_get_structured_replies_negotiated(h.get()), -1);  // not connected
  ASSERT_EQ(connect_nbdkit(h.get()), 0) << last_error();
  EXPECT_EQ(nbd_get_structured_replies_negotiated(h.get()), 1);
  EXPECT_EQ(nbd_can_df(h.get()), 1);
}

TEST(StructuredReplies, NotRequestedMeansNotNegotiatedAndNoDf) {
  auto h = new_handle();
  ASSERT_EQ(nbd_set_request_structured_replies(h.get(), false), 0);
  EXPECT_EQ(nbd_get_request_structured_replies(h.get()), 0);
  ASSERT_EQ(nbd_add_meta_context(h.get(), LIBNBD_CONTEXT_BASE_ALLOCATION), 0);
  ASSERT_EQ(connect_nbdkit(h.get()), 0) << last_error();
  EXPECT_EQ(nbd_get_structured_replies_negotiated(h.get()), 0);
  EXPECT_EQ(nbd_can_df(h.get()), 0);
  // Meta contexts need structured replies.
  EXPECT_EQ(nbd_can_meta_context(h.get(), LIBNBD_CONTEXT_BASE_ALLOCATION), 0);
  // Reads work; a structured read's callback sees the whole buffer once.
  const auto out = pattern(8192, 2);
  ASSERT_EQ(nbd_pwrite(h.get(), out.data(), out.size(), 0, 0), 0) << last_error();
  std::vector<char> in(out.size());
  struct Seen {
    int calls = 0;
    size_t count = 0;
    unsigned status = 0;
    static int cb(void* user_data, const void*, size_t count, uint64_t, unsigned status, int*) {
      auto* self = static_cast<Seen*>(user_data);
      ++self->calls;
      self->count = count;
      self->status = status;
      return 0;
    }
  } seen;
  ASSERT_EQ(nbd_pread_structured(h.get(), in.data(), in.size(), 0, {Seen::cb, &seen, nullptr}, 0),
            0)
      << last_error();
  EXPECT_EQ(seen.calls, 1);
  EXPECT_EQ(seen.count, in.size());
  EXPECT_EQ(seen.status, unsigned{LIBNBD_READ_DATA});
  EXPECT_EQ(in, out);
}

TEST(StructuredReplies, ServerThatRefusesThem) {
  auto h = connected_handle({.server_args = {"--no-sr"}});
  EXPECT_EQ(nbd_get_request_structured_replies(h.get()), 1);
  EXPECT_EQ(nbd_get_structured_replies_negotiated(h.get()), 0);
  EXPECT_EQ(nbd_can_df(h.get()), 0);
}

TEST(StructuredReplies, SettingFrozenOnceConnected) {
  auto h = connected_handle();
  EXPECT_EQ(nbd_set_request_structured_replies(h.get(), false), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_get_request_structured_replies(h.get()), 1);
}

// ---- extended headers ----

TEST(ExtendedHeaders, RequestedByDefaultNotNegotiatedWithNbdkit132) {
  auto h = new_handle();
  EXPECT_EQ(nbd_get_request_extended_headers(h.get()), 1);
  EXPECT_EQ(nbd_get_extended_headers_negotiated(h.get()), -1);  // not connected
  ASSERT_EQ(connect_nbdkit(h.get()), 0) << last_error();
  EXPECT_EQ(nbd_get_extended_headers_negotiated(h.get()), 0);
  EXPECT_EQ(nbd_get_structured_replies_negotiated(h.get()), 1);  // the fallback
}

TEST(ExtendedHeaders, RequestCanBeTurnedOff) {
  auto h = new_handle();
  ASSERT_EQ(nbd_set_request_extended_headers(h.get(), false), 0);
  EXPECT_EQ(nbd_get_request_extended_headers(h.get()), 0);
  ASSERT_EQ(nbd_set_request_extended_headers(h.get(), true), 0);
  EXPECT_EQ(nbd_get_request_extended_headers(h.get()), 1);
  ASSERT_EQ(nbd_set_request_extended_headers(h.get(), false), 0);
  ASSERT_EQ(connect_nbdkit(h.get()), 0) << last_error();
  EXPECT_EQ(nbd_get_extended_headers_negotiated(h.get()), 0);
  EXPECT_EQ(nbd_set_request_extended_headers(h.get(), true), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
}

// ---- block sizes ----

const NbdkitCommand kBlockSizes{
    {"--filter=blocksize-policy"},
    "memory",
    {"1M", "blocksize-minimum=512", "blocksize-preferred=4096", "blocksize-maximum=65536"}};

TEST(BlockSize, ReportsWhatTheServerAdvertised) {
  auto h = new_handle();
  EXPECT_EQ(nbd_get_request_block_size(h.get()), 1);
  EXPECT_EQ(nbd_get_block_size(h.get(), LIBNBD_SIZE_MINIMUM), -1);  // not connected
  ASSERT_EQ(connect_nbdkit(h.get(), kBlockSizes), 0) << last_error();
  EXPECT_EQ(nbd_get_block_size(h.get(), LIBNBD_SIZE_MINIMUM), 512);
  EXPECT_EQ(nbd_get_block_size(h.get(), LIBNBD_SIZE_PREFERRED), 4096);
  EXPECT_EQ(nbd_get_block_size(h.get(), LIBNBD_SIZE_MAXIMUM), 65536);
  EXPECT_EQ(nbd_get_block_size(h.get(), 3), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
}

TEST(BlockSize, ZeroWhenNothingWasAdvertised) {
  // Without structured negotiation (plain newstyle) there is no NBD_OPT_GO
  // and so no block size information.
  auto h = new_handle();
  ASSERT_EQ(nbd_set_handshake_flags(h.get(), 0), 0);
  ASSERT_EQ(connect_nbdkit(h.get(), kBlockSizes), 0) << last_error();
  EXPECT_EQ(nbd_get_block_size(h.get(), LIBNBD_SIZE_MINIMUM), 0);
  EXPECT_EQ(nbd_get_block_size(h.get(), LIBNBD_SIZE_PREFERRED), 0);
  EXPECT_EQ(nbd_get_block_size(h.get(), LIBNBD_SIZE_MAXIMUM), 0);
}

TEST(BlockSize, RequestSettingRoundTripsAndFreezes) {
  auto h = new_handle();
  ASSERT_EQ(nbd_set_request_block_size(h.get(), false), 0);
  EXPECT_EQ(nbd_get_request_block_size(h.get()), 0);
  ASSERT_EQ(connect_nbdkit(h.get()), 0) << last_error();
  EXPECT_EQ(nbd_set_request_block_size(h.get(), true), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(nbd_get_request_block_size(h.get()), 0);
}

// ---- full info ----

// nbdkit whose default export is "a", described as "the first disk".
const NbdkitCommand kDescribed{{"--filter=exportname"},
                               "memory",
                               {"1M", "default-export=a", "exportdesc=fixed:the first disk"}};

TEST(FullInfo, CanonicalNameAndDescriptionFromTheServer) {
  auto h = new_handle();
  EXPECT_EQ(nbd_get_full_info(h.get()), 0);
  ASSERT_EQ(nbd_set_full_info(h.get(), true), 0);
  EXPECT_EQ(nbd_get_full_info(h.get()), 1);
  EXPECT_EQ(nbd_get_canonical_export_name(h.get()), nullptr);  // not connected
  ASSERT_EQ(connect_nbdkit(h.get(), kDescribed), 0) << last_error();
  EXPECT_EQ(take(nbd_get_export_name(h.get())), "");  // what we asked for
  EXPECT_EQ(take(nbd_get_canonical_export_name(h.get())), "a") << last_error();
  EXPECT_EQ(take(nbd_get_export_description(h.get())), "the first disk") << last_error();
}

TEST(FullInfo, SettableWhileNegotiating) {
  auto h = new_handle();
  ASSERT_EQ(nbd_set_opt_mode(h.get(), true), 0);
  ASSERT_EQ(connect_nbdkit(h.get(), kDescribed), 0) << last_error();
  ASSERT_EQ(nbd_set_full_info(h.get(), true), 0) << last_error();
  EXPECT_EQ(nbd_get_full_info(h.get()), 1);
  ASSERT_EQ(nbd_opt_info(h.get()), 0) << last_error();
  EXPECT_EQ(take(nbd_get_export_description(h.get())), "the first disk") << last_error();
  ASSERT_EQ(nbd_opt_go(h.get()), 0) << last_error();
  EXPECT_EQ(nbd_set_full_info(h.get(), false), -1);  // no longer negotiating
  EXPECT_EQ(nbd_get_errno(), EINVAL);
}

// ---- export name ----

TEST(ExportName, EmptyByDefaultAndSettableWhileNegotiating) {
  auto h = new_handle();
  EXPECT_EQ(take(nbd_get_export_name(h.get())), "");
  ASSERT_EQ(nbd_set_export_name(h.get(), "first"), 0);
  EXPECT_EQ(take(nbd_get_export_name(h.get())), "first");
  ASSERT_EQ(nbd_set_opt_mode(h.get(), true), 0);
  ASSERT_EQ(connect_nbdkit(h.get()), 0) << last_error();
  ASSERT_EQ(nbd_set_export_name(h.get(), "second"), 0) << last_error();
  EXPECT_EQ(take(nbd_get_export_name(h.get())), "second");
  ASSERT_EQ(nbd_opt_go(h.get()), 0) << last_error();
  EXPECT_EQ(nbd_set_export_name(h.get(), "third"), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_EQ(take(nbd_get_export_name(h.get())), "second");
}

// ---- nbd_set_pread_initialize ----

const NbdkitCommand kFailingReads{
    {"--filter=error"}, "memory", {"1M", "error-pread=EIO", "error-pread-rate=100%"}};

TEST(PreadInitialize, OnByDefaultAndTheBufferIsZeroedBeforeAFailingRead) {
  auto h = new_handle();
  EXPECT_EQ(nbd_get_pread_initialize(h.get()), 1);
  ASSERT_EQ(connect_nbdkit(h.get(), kFailingReads), 0) << last_error();
  std::vector<char> buf(4096, '\xaa');
  EXPECT_EQ(nbd_pread(h.get(), buf.data(), buf.size(), 0, 0), -1);
  EXPECT_EQ(nbd_get_errno(), EIO);
  EXPECT_TRUE(all_bytes(buf, 0));
  std::fill(buf.begin(), buf.end(), '\xaa');
  const int64_t c = nbd_aio_pread(h.get(), buf.data(), buf.size(), 0, NBD_NULL_COMPLETION, 0);
  ASSERT_GE(c, 1) << last_error();
  EXPECT_EQ(wait_for_command(h.get(), c), -1);
  EXPECT_TRUE(all_bytes(buf, 0));
}

TEST(PreadInitialize, OffLeavesTheBufferAlone) {
  auto h = new_handle();
  ASSERT_EQ(nbd_set_pread_initialize(h.get(), false), 0);
  EXPECT_EQ(nbd_get_pread_initialize(h.get()), 0);
  ASSERT_EQ(connect_nbdkit(h.get(), kFailingReads), 0) << last_error();
  std::vector<char> buf(4096, '\xaa');
  EXPECT_EQ(nbd_pread(h.get(), buf.data(), buf.size(), 0, 0), -1);
  EXPECT_EQ(nbd_get_errno(), EIO);
  EXPECT_TRUE(all_bytes(buf, '\xaa'));
  // The setting may change at any time.
  ASSERT_EQ(nbd_set_pread_initialize(h.get(), true), 0);
  EXPECT_EQ(nbd_get_pread_initialize(h.get()), 1);
  EXPECT_EQ(nbd_pread(h.get(), buf.data(), buf.size(), 0, 0), -1);
  EXPECT_TRUE(all_bytes(buf, 0));
}

TEST(PreadInitialize, AlsoZeroesForAReadRefusedLocally) {
  auto h = connected_handle();
  std::vector<char> buf(4096, '\xaa');
  // Past the end: refused without a request.
  EXPECT_EQ(nbd_pread(h.get(), buf.data(), buf.size(), kSize, 0), -1);
  EXPECT_EQ(nbd_get_errno(), EINVAL);
  EXPECT_TRUE(all_bytes(buf, 0));
}

}  // namespace
}  // namespace nbdref::test
