// Splitting a server's stream into messages: joining gives the stream back,
// the seeds split into the messages their servers sent, lengths are read
// from each header.
#include "mutator/nbd_stream.hpp"

#include <map>

#include <gtest/gtest.h>

#include "test_support.hpp"
#include "wire/constants.hpp"
#include "wire/handshake.hpp"
#include "wire/limits.hpp"
#include "wire/option_reply.hpp"
#include "wire/reply.hpp"

namespace nbdref::fuzz::mutator {
namespace {

using K = MessageKind;
using test::Buffer;

std::vector<MessageKind> kinds_of(const Stream& s) {
  std::vector<MessageKind> out;
  for (const Message& m : s) out.push_back(m.kind);
  return out;
}

TEST(NbdStream, JoinOfSplitIsTheStreamForEverySeed) {
  for (const auto& [name, stream] : test::handshake_streams()) {
    EXPECT_EQ(join_stream(split_stream(stream)), stream) << name;
  }
  for (const auto& [name, input] : test::corpus("transmission")) {
    EXPECT_EQ(join_stream(split_stream(input)), input) << name;
  }
}

TEST(NbdStream, HandshakeSeedsSplitIntoTheirServersMessages) {
  std::map<std::string, Stream> split;
  for (const auto& [name, stream] : test::handshake_streams()) split[name] = split_stream(stream);

  EXPECT_EQ(kinds_of(split["oldstyle"]), std::vector<K>{K::OldstyleGreeting});
  // An option reply per answer; the reply to NBD_OPT_EXPORT_NAME has no
  // magic and stays raw.
  EXPECT_EQ(kinds_of(split["go-unsupported-export-name"]),
            (std::vector<K>{K::NewstyleGreeting, K::OptionReply, K::OptionReply, K::Raw}));
  EXPECT_EQ(kinds_of(split["go-plain-default-export"]),
            (std::vector<K>{K::NewstyleGreeting, K::OptionReply, K::OptionReply}));
  const Stream& list = split["opt-list-info-go"];
  ASSERT_EQ(list.size(), 15u);
  EXPECT_EQ(list[0].kind, K::NewstyleGreeting);
  for (std::size_t i = 1; i < list.size(); ++i) {
    ASSERT_EQ(list[i].kind, K::OptionReply);
    const auto header = wire::decode_option_reply_header(
        wire::Bytes(list[i].bytes).first(wire::OPTION_REPLY_HEADER_SIZE));
    ASSERT_TRUE(header.has_value());
    EXPECT_EQ(header->length, payload_size(list[i]));
    EXPECT_TRUE(length_consistent(list[i]));
  }
  EXPECT_TRUE(wire::decode_newstyle_greeting(list[0].bytes).has_value());
  // An option reply declaring more than the stream holds is its header
  // alone; the bytes after it are raw.
  EXPECT_EQ(kinds_of(split["regression-feed-spins-awaiting-tls"]),
            (std::vector<K>{K::NewstyleGreeting, K::OptionReply, K::Raw}));
}

TEST(NbdStream, TransmissionRepliesSplitByTheirHeaders) {
  std::vector<std::uint8_t> bytes;
  wire::Writer w(bytes);
  wire::encode_simple_reply({0, 1}, w);
  w.string("data");  // a read's data follows a simple reply as raw bytes
  wire::encode_structured_reply_header({wire::NBD_REPLY_FLAG_DONE, 0, 2, 0, 0}, w);
  wire::encode_extended_reply_header({0, 1, 3, 0, 9}, w);
  w.zeroes(9);
  const Stream s = split_stream(bytes);
  EXPECT_EQ(kinds_of(s),
            (std::vector<K>{K::SimpleReply, K::Raw, K::StructuredChunk, K::ExtendedChunk}));
  EXPECT_EQ(s[3].bytes.size(), wire::EXTENDED_REPLY_HEADER_SIZE + 9);
  EXPECT_EQ(declared_length(s[3]), 9u);
  EXPECT_EQ(join_stream(s), bytes);
}

TEST(NbdStream, CutShortHeadersAreRaw) {
  std::vector<std::uint8_t> bytes;
  wire::Writer w(bytes);
  wire::encode_simple_reply({0, 1}, w);
  bytes.pop_back();
  EXPECT_EQ(kinds_of(split_stream(bytes)), std::vector<K>{K::Raw});
  EXPECT_TRUE(split_stream({}).empty());
}

TEST(NbdStream, FixLengthMakesTheHeaderDeclareThePayload) {
  std::vector<std::uint8_t> bytes;
  wire::Writer w(bytes);
  wire::encode_option_reply(wire::NBD_OPT_GO, wire::NBD_REP_ACK, {}, w);
  Message m{K::OptionReply, bytes};
  m.bytes.insert(m.bytes.end(), {1, 2, 3});
  EXPECT_FALSE(length_consistent(m));
  fix_length(m);
  EXPECT_TRUE(length_consistent(m));
  EXPECT_EQ(declared_length(m), 3u);
  EXPECT_EQ(split_stream(m.bytes), Stream{m});
}

}  // namespace
}  // namespace nbdref::fuzz::mutator
