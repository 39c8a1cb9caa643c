// Messages made from templates are whole messages of the kind asked for,
// their lengths agreeing with their payloads, and their payloads plausible:
// the wire decoders accept those of the types they know.
#include "mutator/message_templates.hpp"

#include <set>

#include <gtest/gtest.h>

#include "wire/chunk.hpp"
#include "wire/constants.hpp"
#include "wire/handshake.hpp"
#include "wire/option_reply.hpp"

namespace nbdref::fuzz::mutator {
namespace {

using namespace nbdref::wire;

// Whether the chunk's payload decodes as its type says, for the types the
// template writes in their own form.
bool chunk_payload_decodes(const Message& m) {
  const Bytes payload = Bytes(m.bytes).subspan(header_size(m.kind));
  const std::uint16_t type = load_be16(m.bytes.data() + 6);
  switch (type) {
    case NBD_REPLY_TYPE_NONE:
      return payload.empty();
    case NBD_REPLY_TYPE_OFFSET_DATA:
      return decode_offset_data(payload).has_value();
    case NBD_REPLY_TYPE_OFFSET_HOLE:
      return decode_offset_hole(payload).has_value();
    case NBD_REPLY_TYPE_BLOCK_STATUS:
      return decode_block_status(payload).has_value();
    case NBD_REPLY_TYPE_BLOCK_STATUS_EXT:
      return decode_block_status_ext(payload).has_value();
    default:
      return decode_error_chunk(type, payload).has_value() || !is_error_chunk(type);
  }
}

TEST(MessageTemplates, EachKindIsOneWholeMessageOfThatKind) {
  Random random(1);
  for (const MessageKind kind : ALL_MESSAGE_KINDS) {
    for (int i = 0; i < 200; ++i) {
      const Message m = synthesize_message(kind, random, {});
      ASSERT_EQ(m.kind, kind);
      ASSERT_TRUE(length_consistent(m));
      const Stream again = split_stream(m.bytes);
      ASSERT_EQ(again.size(), 1u);
      ASSERT_EQ(again[0], m);
    }
  }
}

TEST(MessageTemplates, PayloadsDecode) {
  Random random(2);
  std::set<std::uint32_t> reply_types;
  std::set<std::uint16_t> info_types;
  std::set<std::uint16_t> chunk_types;
  for (int i = 0; i < 2000; ++i) {
    const Message reply = synthesize_message(MessageKind::OptionReply, random, {});
    const auto header = decode_option_reply_header(Bytes(reply.bytes).first(20));
    ASSERT_TRUE(header.has_value());
    reply_types.insert(header->reply_type);
    const Bytes payload = Bytes(reply.bytes).subspan(20);
    if (header->reply_type == NBD_REP_INFO) {
      const std::uint16_t type = load_be16(payload.data());
      info_types.insert(type);
      // Block sizes break the rules on purpose now and then (S-SZ-008):
      // their layout alone is checked.
      if (type == NBD_INFO_BLOCK_SIZE) {
        EXPECT_EQ(payload.size(), 2u + 12u);
      } else {
        EXPECT_TRUE(decode_info_reply(payload).has_value());
      }
    } else if (header->reply_type == NBD_REP_SERVER) {
      EXPECT_TRUE(decode_server_reply(payload).has_value());
    } else if (header->reply_type == NBD_REP_META_CONTEXT && payload.size() > 4) {
      // (An empty name breaks S-BS-005 on purpose.)
      EXPECT_TRUE(decode_meta_context_reply(payload).has_value());
    }
    for (const MessageKind form : {MessageKind::StructuredChunk, MessageKind::ExtendedChunk}) {
      const Message chunk = synthesize_message(form, random, {});
      chunk_types.insert(load_be16(chunk.bytes.data() + 6));
      EXPECT_TRUE(chunk_payload_decodes(chunk));
    }
  }
  // Every option reply type, every information type and an unknown one,
  // every chunk type and unknown ones.
  EXPECT_EQ(reply_types.size(), 14u);
  EXPECT_EQ(info_types.size(), 8u);
  EXPECT_GE(chunk_types.size(), 9u);
}

TEST(MessageTemplates, UseTheStreamsOptionsAndCookies) {
  StreamFacts facts;
  facts.options = {NBD_OPT_LIST};
  facts.cookies = {42};
  Random random(3);
  int list = 0;
  int cookie = 0;
  for (int i = 0; i < 100; ++i) {
    const Message reply = synthesize_message(MessageKind::OptionReply, random, facts);
    list += load_be32(reply.bytes.data() + 8) == NBD_OPT_LIST;
    const Message chunk = synthesize_message(MessageKind::StructuredChunk, random, facts);
    cookie += load_be64(chunk.bytes.data() + 8) == 42;
  }
  EXPECT_GT(list, 50);
  EXPECT_GT(cookie, 50);
}

}  // namespace
}  // namespace nbdref::fuzz::mutator
