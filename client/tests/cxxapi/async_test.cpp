// The C++ API's asynchronous commands, option mode and event-loop calls.
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <nbdref/client.hpp>

namespace nbdref::test {
namespace {

std::vector<std::string> nbdkit(std::vector<std::string> extra = {}) {
  std::vector<std::string> argv{"nbdkit", "-s", "--exit-with-parent"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  if (extra.empty()) {
    argv.push_back("memory");
    argv.push_back("8M");
  }
  return argv;
}

TEST(CxxAsync, CompletionHandlersMayOwnMoveOnlyState) {
  Client c;
  c.connect_command(nbdkit());
  std::vector<std::byte> data(4096, std::byte{7});
  int finished = 0;
  auto token = std::make_unique<int>(42);  // move-only capture
  const auto cookie = c.aio_pwrite(data, 0, [&finished, t = std::move(token)](int errnum) {
    EXPECT_EQ(errnum, 0);
    EXPECT_EQ(*t, 42);
    ++finished;
    return true;  // retire at once
  });
  EXPECT_GE(cookie, 1u);
  while (finished == 0) c.poll(5000);
  EXPECT_EQ(c.in_flight(), 0u);
  EXPECT_THROW(c.command_completed(cookie), ClientError);  // retired already
}

TEST(CxxAsync, CommandsWithoutHandlersAreRetiredByCommandCompleted) {
  Client c;
  c.connect_command(nbdkit());
  std::vector<std::vector<std::byte>> bufs(100, std::vector<std::byte>(512));
  std::vector<std::uint64_t> cookies;
  for (std::size_t i = 0; i < bufs.size(); ++i) cookies.push_back(c.aio_pread(bufs[i], i * 512));
  EXPECT_TRUE(std::all_of(cookies.begin(), cookies.end(), [](auto k) { return k >= 1; }));
  std::size_t retired = 0;
  while (retired < cookies.size()) {
    c.poll(5000);
    while (auto done = c.peek_completed()) {
      EXPECT_TRUE(c.command_completed(*done));
      ++retired;
    }
  }
  EXPECT_FALSE(c.peek_completed());
}

TEST(CxxAsync, FailedCommandThrowsWhenRetired) {
  Client c;
  c.set_strict_mode(strict::all & ~strict::bounds);
  c.connect_command(nbdkit());
  std::vector<std::byte> buf(512);
  const auto cookie = c.aio_pread(buf, 8 << 20);  // past the end: the server refuses
  while (c.in_flight() > 0) c.poll(5000);
  try {
    c.command_completed(cookie);
    FAIL() << "the failed read was reported as a success";
  } catch (const ClientError& e) {
    EXPECT_EQ(e.errnum(), EINVAL);
  }
}

TEST(CxxAsync, BlockStatusAndChunksThroughHandlers) {
  Client c;
  c.add_meta_context("base:allocation");
  c.connect_command(nbdkit());
  std::vector<std::byte> data(65536, std::byte{1});
  c.pwrite(data, 0);
  std::vector<Extent> extents;
  bool done = false;
  c.aio_block_status(
      1 << 20, 0,
      [&](std::string_view, std::span<const Extent> e) {
        extents.insert(extents.end(), e.begin(), e.end());
        return 0;
      },
      [&](int errnum) {
        EXPECT_EQ(errnum, 0);
        done = true;
        return true;
      });
  while (!done) c.poll(5000);
  ASSERT_FALSE(extents.empty());
  EXPECT_EQ(extents[0].flags & 1, 0u);

  std::vector<std::byte> back(65536);
  int chunks = 0;
  done = false;
  c.aio_pread(
      back, 0,
      [&](std::span<const std::byte>, std::uint64_t, ReadChunkKind) {
        ++chunks;
        return 0;
      },
      [&](int) { return done = true; });
  while (!done) c.poll(5000);
  EXPECT_GE(chunks, 1);
  EXPECT_EQ(back, data);
}

TEST(CxxAsync, ConnectWithoutWaitingDrivenByTheCallersLoop) {
  Client c;
  EXPECT_TRUE(c.is_created());
  c.aio_connect_command(nbdkit());
  EXPECT_TRUE(c.is_connecting());
  for (int round = 0; round < 1000 && !c.is_ready(); ++round) {
    const unsigned want = c.wanted_direction();
    pollfd p{c.fd(), 0, 0};
    if (want & direction::read) p.events |= POLLIN;
    if (want & direction::write) p.events |= POLLOUT;
    ASSERT_GE(::poll(&p, 1, 5000), 0);
    if (p.revents & (POLLIN | POLLHUP)) {
      c.notify_read();
    } else if (p.revents & POLLOUT) {
      c.notify_write();
    }
  }
  EXPECT_TRUE(c.is_ready());
  EXPECT_EQ(c.size(), 8u << 20);
  c.aio_disconnect();
  while (!c.is_closed() && !c.is_dead()) c.poll(5000);
  EXPECT_TRUE(c.is_closed());
}

TEST(CxxOptions, ListThenChooseAnExport) {
  Client c;
  c.set_opt_mode(true);
  c.connect_command(nbdkit({"--filter=exportname", "memory", "1M", "exportname-list=explicit",
                            "exportname=first", "exportname=second", "exportdesc=fixed:the disk"}));
  EXPECT_TRUE(c.is_negotiating());
  const auto exports = c.opt_list();
  ASSERT_EQ(exports.size(), 2u);
  EXPECT_EQ(exports[0].name, "first");
  EXPECT_EQ(exports[1].name, "second");
  EXPECT_EQ(exports[0].description, "the disk");
  EXPECT_TRUE(c.opt_structured_reply() || c.structured_replies_negotiated());
  EXPECT_FALSE(c.opt_extended_headers());  // nbdkit 1.32 predates the extension
  c.set_export_name("second");
  c.opt_info();
  EXPECT_EQ(c.size(), 1u << 20);
  bool went = false;
  c.aio_opt_go([&](int errnum) {
    EXPECT_EQ(errnum, 0);
    went = true;
    return true;
  });
  while (!went) c.poll(5000);
  EXPECT_TRUE(c.is_ready());
}

TEST(CxxOptions, AbortCloses) {
  Client c;
  c.set_opt_mode(true);
  c.connect_command(nbdkit());
  c.opt_abort();
  EXPECT_TRUE(c.is_closed());
}

TEST(CxxSettings, AskingForTlsWorksExactlyWhenBuiltWithIt) {
  EXPECT_EQ(Client::supports_tls(), static_cast<bool>(NBDREF_TLS_BUILT));
  Client c;
  try {
    c.set_tls(Tls::Require);
    EXPECT_TRUE(Client::supports_tls()) << "TLS was accepted by a build without it";
  } catch (const ClientError& e) {
    EXPECT_FALSE(Client::supports_tls()) << e.what();
    EXPECT_EQ(e.errnum(), ENOTSUP);
  }
  c.set_tls(Tls::Disable);
  c.connect_command(nbdkit());
  EXPECT_TRUE(c.is_ready());
  EXPECT_FALSE(c.tls_negotiated());
}

// Tls::Require against nbdkit without TLS: the server refuses STARTTLS and
// the client gives up rather than go on in plaintext (C-TLS-011).
TEST(CxxSettings, RequiredTlsAgainstAPlaintextServerThrows) {
  if (!Client::supports_tls()) return;  // set_tls throws ENOTSUP, checked above
  Client c;
  c.set_tls(Tls::Require);
  try {
    c.connect_command(nbdkit());
    FAIL() << "connected without TLS";
  } catch (const ClientError& e) {
    EXPECT_EQ(e.errnum(), ENOTSUP);
    EXPECT_NE(std::string(e.what()).find("the server refused NBD_OPT_STARTTLS"), std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(c.is_dead());
}

TEST(CxxOptions, StartTlsDeclinedByAPlaintextServerIsFalse) {
  Client c;
  c.set_opt_mode(true);
  c.connect_command(nbdkit());
  if (!Client::supports_tls()) {
    try {
      (void)c.opt_starttls();
      FAIL() << "opt_starttls worked without TLS support";
    } catch (const ClientError& e) {
      EXPECT_EQ(e.errnum(), ENOTSUP);
    }
    return;
  }
  EXPECT_FALSE(c.opt_starttls());
  EXPECT_TRUE(c.is_negotiating());
  EXPECT_FALSE(c.tls_negotiated());
  c.opt_go();
  EXPECT_TRUE(c.is_ready());
}

TEST(CxxStats, GrowWithTraffic) {
  Client c;
  EXPECT_EQ(c.stats().bytes_sent, 0u);
  c.connect_command(nbdkit());
  const auto before = c.stats();
  std::vector<std::byte> buf(4096);
  c.pread(buf, 0);
  const auto after = c.stats();
  EXPECT_EQ(after.chunks_sent, before.chunks_sent + 1);
  EXPECT_GE(after.bytes_received, before.bytes_received + 4096);
}

}  // namespace
}  // namespace nbdref::test
