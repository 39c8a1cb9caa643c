// Fields of messages and their mutation: the fields found are the ones the
// wire layout puts there, and mutating a field changes that field and
// nothing else.
#include "mutator/message_fields.hpp"

#include <gtest/gtest.h>

#include "mutator/field_mutation.hpp"
#include "mutator/message_templates.hpp"
#include "test_support.hpp"
#include "wire/chunk.hpp"
#include "wire/constants.hpp"
#include "wire/reply.hpp"

namespace nbdref::fuzz::mutator {
namespace {

using R = FieldRole;

// Messages of every kind: the handshake seeds' and many from templates.
std::vector<Message> sample_messages() {
  std::vector<Message> out;
  for (const auto& [name, stream] : test::handshake_streams()) {
    for (Message& m : split_stream(stream)) out.push_back(std::move(m));
  }
  Random random(7);
  for (int i = 0; i < 40; ++i) {
    for (const MessageKind kind : ALL_MESSAGE_KINDS) {
      out.push_back(synthesize_message(kind, random, {}));
    }
  }
  return out;
}

std::vector<R> roles_of(const Message& m) {
  std::vector<R> out;
  for (const Field& f : fields_of(m)) out.push_back(f.role);
  return out;
}

TEST(MessageFields, AnErrorOffsetChunkHasEveryFieldWhereTheWirePutsIt) {
  Message m{MessageKind::StructuredChunk, {}};
  wire::Writer w(m.bytes);
  std::vector<std::uint8_t> payload;
  wire::Writer p(payload);
  wire::encode_error_chunk({wire::NBD_EIO, "bad", 4096}, p);
  wire::encode_structured_reply_header(
      {0, wire::NBD_REPLY_TYPE_ERROR_OFFSET, 77, 0, payload.size()}, w);
  w.bytes(payload);
  EXPECT_EQ(roles_of(m), (std::vector<R>{R::Magic, R::ReplyFlags, R::ChunkType, R::Cookie,
                                         R::Length, R::Error, R::MessageLength, R::Offset}));
  const auto fields = fields_of(m);
  EXPECT_EQ(read_field(m, fields[3]), 77u);
  EXPECT_EQ(read_field(m, fields[5]), wire::NBD_EIO);
  EXPECT_EQ(read_field(m, fields[6]), 3u);
  EXPECT_EQ(read_field(m, fields[7]), 4096u);
  EXPECT_EQ(consistent_value(m, fields[4]), payload.size());
  EXPECT_EQ(consistent_value(m, fields[6]), 3u);
}

TEST(MessageFields, InfoExportFieldsFollowTheInfoType) {
  const auto seeds = test::handshake_streams();
  const auto go = std::find_if(seeds.begin(), seeds.end(),
                               [](const auto& s) { return s.first == "go-plain-default-export"; });
  ASSERT_NE(go, seeds.end());
  const Stream s = split_stream(go->second);
  // NBD_REP_INFO with NBD_INFO_EXPORT.
  EXPECT_EQ(roles_of(s[1]), (std::vector<R>{R::Magic, R::Option, R::OptionReplyType, R::Length,
                                            R::InfoType, R::ExportSize, R::TransmissionFlags}));
}

TEST(MessageFields, FieldsLieInsideTheMessage) {
  for (const Message& m : sample_messages()) {
    for (const Field& f : fields_of(m)) {
      EXPECT_LE(f.offset + f.width, m.bytes.size());
      EXPECT_TRUE(f.width == 2 || f.width == 4 || f.width == 8);
    }
  }
}

TEST(FieldMutation, ChangesTheFieldAndNothingElse) {
  Random random(11);
  std::size_t mutated = 0;
  for (const Message& m : sample_messages()) {
    const auto fields = fields_of(m);
    for (const Field& f : fields) {
      for (int round = 0; round < 4; ++round) {
        Message changed = m;
        mutate_field(changed, f, random, {});
        ASSERT_EQ(changed.bytes.size(), m.bytes.size());
        EXPECT_NE(read_field(changed, f), read_field(m, f));
        for (std::size_t i = 0; i < m.bytes.size(); ++i) {
          if (i < f.offset || i >= f.offset + f.width) {
            ASSERT_EQ(changed.bytes[i], m.bytes[i]);
          }
        }
        ++mutated;
      }
    }
  }
  EXPECT_GT(mutated, 1000u);
}

TEST(FieldMutation, CookiesAndContextIdsComeFromTheFacts) {
  Message m{MessageKind::SimpleReply, {}};
  wire::Writer w(m.bytes);
  wire::encode_simple_reply({0, 1}, w);
  const Field cookie = fields_of(m)[2];
  ASSERT_EQ(cookie.role, R::Cookie);
  StreamFacts facts;
  facts.cookies = {0x1234567890};
  Random random(3);
  bool seen = false;
  for (int i = 0; i < 200 && !seen; ++i) {
    Message changed = m;
    mutate_field(changed, cookie, random, facts);
    seen = read_field(changed, cookie) == 0x1234567890;
  }
  EXPECT_TRUE(seen);
}

}  // namespace
}  // namespace nbdref::fuzz::mutator
