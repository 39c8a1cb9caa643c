// `serve` from every point of the conversation, with the project's own
// client library (its libnbd-compatible C API) on the other end, and
// scripted conversations played against that client.
#include <cstring>
#include <string>

#include <gtest/gtest.h>
#include <libnbd.h>

#include "player_test_support.hpp"
#include "server/export_store.hpp"

namespace nbdref::mock::test {
namespace {

using O = Verdict::Outcome;

// A client handle with a few settings, connected to `server`.
class Client {
 public:
  struct Settings {
    std::string export_name;
    bool structured = true;
    bool extended = true;
    bool allocation = false;
  };

  Client(InProcessServer& server, const Settings& s) : h_(nbd_create()) {
    EXPECT_NE(h_, nullptr);
    nbd_set_export_name(h_, s.export_name.c_str());
    nbd_set_request_structured_replies(h_, s.structured);
    nbd_set_request_extended_headers(h_, s.extended);
    if (s.allocation) nbd_add_meta_context(h_, "base:allocation");
    connected_ = nbd_connect_socket(h_, server.release_client_fd()) == 0;
    EXPECT_TRUE(connected_) << nbd_get_error();
  }
  ~Client() {
    if (h_) nbd_close(h_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  nbd_handle* h() { return h_; }
  bool connected() const { return connected_; }

  std::string pread(std::size_t n, std::uint64_t offset) {
    std::string out(n, '\0');
    EXPECT_EQ(nbd_pread(h_, out.data(), n, offset, 0), 0) << nbd_get_error();
    return out;
  }
  void pwrite(const std::string& data, std::uint64_t offset) {
    EXPECT_EQ(nbd_pwrite(h_, data.data(), data.size(), offset, 0), 0) << nbd_get_error();
  }
  void shutdown() { EXPECT_EQ(nbd_shutdown(h_, 0), 0) << nbd_get_error(); }

 private:
  nbd_handle* h_;
  bool connected_ = false;
};

PlayOptions quick() {
  PlayOptions o;
  o.default_timeout = std::chrono::milliseconds(3000);
  return o;
}

TEST(PlayerServe, ServesFromBeforeTheGreeting) {
  InProcessServer server(parse("serve {\n  export name=\"disk\" size=1M data=\"hello\"\n}\n"),
                         quick());
  {
    Client c(server, {"disk"});
    ASSERT_TRUE(c.connected());
    EXPECT_EQ(nbd_get_size(c.h()), 1 << 20);
    EXPECT_EQ(c.pread(5, 0), "hello");
    c.pwrite("HE", 0);
    EXPECT_EQ(c.pread(5, 0), "HEllo");
    c.shutdown();
  }
  const Verdict v = verdict_of(server);
  EXPECT_TRUE(v.passed()) << v.describe();
  const std::string t = server.transcript().text();
  EXPECT_NE(t.find("-- serve: the RAM-disk server takes over before the greeting\n"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("-- serve: the client sent NBD_CMD_DISC\n"), std::string::npos) << t;
}

TEST(PlayerServe, ServesAfterTheScriptsGreetingWithTheDefaultExport) {
  InProcessServer server(parse("greeting newstyle\nserve\n"), quick());
  {
    Client c(server, {""});
    ASSERT_TRUE(c.connected());
    EXPECT_EQ(nbd_get_size(c.h()), 64 << 20);
    EXPECT_EQ(c.pread(4, 4096), std::string(4, '\0'));
    c.shutdown();
  }
  EXPECT_TRUE(verdict_of(server).passed());
}

TEST(PlayerServe, AfterTheGreetingTheSessionHonoursTheFlagsTheScriptOffered) {
  // The script offered no NO_ZEROES, so a client answering with it broke
  // the protocol -- reported as a mismatch citing the clause.
  InProcessServer server(parse("greeting newstyle flags=FIXED_NEWSTYLE\nserve\n"), quick());
  RawClient client(server);
  client.read(18);
  client.send(client_flags(3));
  const Verdict v = verdict_of(server);
  EXPECT_EQ(v.outcome, O::Mismatch);
  EXPECT_EQ(v.message,
            "line 2: serve: the client sent client flags "
            "NBD_FLAG_C_FIXED_NEWSTYLE|NBD_FLAG_C_NO_ZEROES, but NBD_FLAG_NO_ZEROES was not "
            "offered [C-HS-012]");
}

TEST(PlayerServe, ServesFromOptionHaggling) {
  // Whatever the client asks first is refused by the script; the RAM-disk
  // server answers the rest.
  InProcessServer server(parse("greeting newstyle\n"
                               "expect client-flags\n"
                               "expect option $o\n"
                               "reply $o error UNSUP\n"
                               "serve {\n"
                               "  export name=\"d\" size=64K data=\"xyz\"\n"
                               "}\n"),
                         quick());
  {
    Client c(server, {"d"});
    ASSERT_TRUE(c.connected());
    EXPECT_EQ(c.pread(3, 0), "xyz");
    c.shutdown();
  }
  const Verdict v = verdict_of(server);
  EXPECT_TRUE(v.passed()) << v.describe();
  EXPECT_NE(server.transcript().text().find("takes over in option haggling"), std::string::npos);
}

TEST(PlayerServe, ServesFromTransmissionAfterAScriptedHandshake) {
  InProcessServer server(parse("greeting newstyle\n"
                               "expect client-flags\n"
                               "expect option GO name=\"disk\"\n"
                               "reply GO info export size=1M flags=HAS_FLAGS|SEND_FLUSH\n"
                               "reply GO ack\n"
                               "serve {\n"
                               "  export name=\"disk\" size=1M data=\"abc\"\n"
                               "}\n"),
                         quick());
  {
    Client c(server, {"disk", false, false});
    ASSERT_TRUE(c.connected());
    EXPECT_EQ(c.pread(3, 0), "abc");
    EXPECT_EQ(nbd_flush(c.h(), 0), 0) << nbd_get_error();
    c.shutdown();
  }
  const Verdict v = verdict_of(server);
  EXPECT_TRUE(v.passed()) << v.describe();
  EXPECT_NE(server.transcript().text().find("takes over in transmission"), std::string::npos);
}

int count_extents(void* user, const char* context, std::uint64_t, std::uint32_t* entries,
                  std::size_t n, int*) {
  auto* seen = static_cast<std::vector<std::uint32_t>*>(user);
  if (std::strcmp(context, "base:allocation") == 0) seen->insert(seen->end(), entries, entries + n);
  return 0;
}

TEST(PlayerServe, TakesOverExtendedHeadersAndTheGrantedContext) {
  InProcessServer server(parse("greeting newstyle\n"
                               "expect client-flags\n"
                               "expect option EXTENDED_HEADERS\n"
                               "reply EXTENDED_HEADERS ack\n"
                               "expect option SET_META_CONTEXT name=\"disk\"\n"
                               "reply SET_META_CONTEXT meta-context id=7\n"
                               "reply SET_META_CONTEXT ack\n"
                               "expect option GO name=\"disk\"\n"
                               "reply GO info export size=1M flags=HAS_FLAGS\n"
                               "reply GO ack\n"
                               "serve {\n"
                               "  export name=\"disk\" size=1M data=zeros:4096\n"
                               "}\n"),
                         quick());
  {
    Client c(server, {"disk", true, true, true});
    ASSERT_TRUE(c.connected());
    EXPECT_EQ(nbd_get_extended_headers_negotiated(c.h()), 1);
    std::vector<std::uint32_t> seen;
    EXPECT_EQ(
        nbd_block_status(c.h(), 8192, 0, nbd_extent_callback{count_extents, &seen, nullptr}, 0), 0)
        << nbd_get_error();
    // The first page holds data (zeros written), the second is a hole.
    EXPECT_EQ(seen, (std::vector<std::uint32_t>{4096, 2, 4096, 3}));
    c.shutdown();
  }
  const Verdict v = verdict_of(server);
  EXPECT_TRUE(v.passed()) << v.describe();
}

TEST(PlayerServe, ServesTransmissionAfterTheScriptsOldstyleGreeting) {
  const Exchange e =
      converse(parse("greeting oldstyle size=1M\nserve {\n  export size=1M data=\"ab\"\n}\n"),
               concat({compact_request(0, 0, 1, 0, 2), compact_request(0, 2, 2, 0, 0)}));
  EXPECT_TRUE(e.verdict.passed()) << e.verdict.describe();
  EXPECT_EQ(e.sent,
            concat({Golden().u64(NBDMAGIC).u64(0x00420281861253ULL).u64(1 << 20).u32(1).zeros(124),
                    Golden().u32(0x67446698).u32(0).u64(1).text("ab")}));
}

TEST(PlayerServe, TransmissionOnAnUnknownExportIsAScriptError) {
  const Verdict v =
      converse(parse("expect option GO\nreply GO ack\nserve {\n  export name=\"a\" size=1M\n}\n"),
               option(7, go_data("zzz")))
          .verdict;
  EXPECT_EQ(v.outcome, O::ScriptError);
  EXPECT_EQ(v.message, "line 3: serve: cannot take over transmission: no export is named \"zzz\"");
}

TEST(PlayerServe, AContextWithoutChunksCannotBeTakenOver) {
  const Verdict v = converse(parse("reply SET_META_CONTEXT meta-context\n"
                                   "expect option GO\n"
                                   "reply GO ack\n"
                                   "serve\n"),
                             option(7, go_data("")))
                        .verdict;
  EXPECT_EQ(v.outcome, O::ScriptError);
  EXPECT_EQ(v.message,
            "line 4: serve: cannot take over transmission: base:allocation was granted (id 1), "
            "but neither structured replies nor extended headers were");
}

TEST(PlayerServe, ABadConfigurationIsAScriptError) {
  const Verdict v = converse(parse("serve {\n  export size=1M minimum-block=3\n}\n"), {}).verdict;
  EXPECT_EQ(v.outcome, O::ScriptError);
  EXPECT_EQ(v.message,
            "line 1: serve: export '': minimum block size must be a power of two up to 65536 "
            "[S-SZ-007, S-SZ-008]");
  EXPECT_EQ(converse(parse("serve {\n  export size=2 data=\"abc\"\n}\n"), {}).verdict.message,
            "line 2: export data=\"abc\": holds 3 bytes, more than the export's 2");
  EXPECT_EQ(converse(parse("greeting newstyle\nserve oldstyle=yes\n"), {}).verdict.message,
            "line 2: serve: oldstyle=yes needs the server's greeting still to come, but the "
            "conversation is after the greeting");
}

TEST(PlayerServe, DisksAreSharedAcrossConnectionsThroughTheStore) {
  PlayOptions options = quick();
  options.disks = std::make_shared<ExportStore>();
  const auto script = parse("serve {\n  export name=\"d\" size=64K data=\"init\"\n}\n");
  {
    InProcessServer first(script, options);
    Client c(first, {"d"});
    ASSERT_TRUE(c.connected());
    c.pwrite("XYZ", 0);
    c.shutdown();
  }
  {
    InProcessServer second(script, options);
    Client c(second, {"d"});
    ASSERT_TRUE(c.connected());
    EXPECT_EQ(c.pread(4, 0), "XYZt");  // what the first wrote, not the initial data again
    c.shutdown();
  }
}

TEST(PlayerServe, FragmentedServingStillWorksByteByByte) {
  InProcessServer server(parse("fragments 1 gap=0 {\n  serve\n}\n"), quick());
  {
    Client c(server, {""});
    ASSERT_TRUE(c.connected());
    c.pwrite("fragmented", 100);
    EXPECT_EQ(c.pread(10, 100), "fragmented");
    c.shutdown();
  }
  EXPECT_TRUE(verdict_of(server).passed());
}

TEST(PlayerServe, EndsCompletedAfterAbort) {
  const Exchange e =
      converse(parse("serve\n"), concat({client_flags(3), option(2)}));  // NBD_OPT_ABORT
  EXPECT_TRUE(e.verdict.passed()) << e.verdict.describe();
  // Greeting, then the ACK to NBD_OPT_ABORT (S-OPT-004).
  EXPECT_EQ(e.sent, concat({Golden().u64(NBDMAGIC).u64(IHAVEOPT).u16(3),
                            Golden().u64(REPLY_MAGIC).u32(2).u32(1).u32(0)}));
}

TEST(PlayerServe, IdleTimeoutEndsAServeThatHearsNothing) {
  PlayOptions options;
  options.serve_idle_timeout = std::chrono::milliseconds(100);
  InProcessServer server(parse("serve\n"), options);
  RawClient(server).read(18);
  const Verdict v = verdict_of(server);
  EXPECT_EQ(v.outcome, O::Timeout);
  EXPECT_EQ(v.message, "line 1: serve: nothing from the client for 100ms");
}

// ---- scripted conversations with the real client ----

TEST(PlayerWithClient, AFullyScriptedConversation) {
  InProcessServer server(parse("greeting newstyle\n"
                               "expect client-flags flags=FIXED_NEWSTYLE|NO_ZEROES\n"
                               "expect option GO name=\"disk\"\n"
                               "reply GO info export size=1M flags=HAS_FLAGS\n"
                               "reply GO ack\n"
                               "expect request READ cookie=$c offset=512 length=4\n"
                               "simple-reply cookie=$c data=\"abcd\"\n"
                               "expect request DISC\n"
                               "expect eof\n"),
                         quick());
  {
    Client c(server, {"disk", false, false});
    ASSERT_TRUE(c.connected());
    EXPECT_EQ(c.pread(4, 512), "abcd");
    c.shutdown();
  }
  const Verdict v = verdict_of(server);
  EXPECT_TRUE(v.passed()) << v.describe();
}

TEST(PlayerWithClient, StructuredChunksAfterTheScriptAcknowledgedThem) {
  InProcessServer server(parse("greeting newstyle\n"
                               "expect client-flags\n"
                               "expect option STRUCTURED_REPLY\n"
                               "reply STRUCTURED_REPLY ack\n"
                               "expect option GO\n"
                               "reply GO info export size=1M flags=HAS_FLAGS\n"
                               "reply GO ack\n"
                               "expect request READ offset=0 length=8\n"
                               "chunk data data=\"abcd\"\n"
                               "chunk hole offset=4 size=4 flags=DONE\n"
                               "expect request DISC\n"),
                         quick());
  {
    Client c(server, {"", true, false});
    ASSERT_TRUE(c.connected());
    EXPECT_EQ(c.pread(8, 0), std::string("abcd\0\0\0\0", 8));
    c.shutdown();
  }
  const Verdict v = verdict_of(server);
  EXPECT_TRUE(v.passed()) << v.describe();
}

}  // namespace
}  // namespace nbdref::mock::test
