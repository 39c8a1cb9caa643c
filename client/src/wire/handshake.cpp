#include "wire/handshake.hpp"

#include "wire/constants.hpp"
#include "wire/limits.hpp"
#include "wire/reader.hpp"

namespace nbdref::wire {

Decoded<GreetingStyle> decode_greeting_prefix(Bytes b) {
  if (auto e = expect_size(b, GREETING_PREFIX_SIZE, "greeting prefix")) return tl::unexpected(*e);
  Reader r(b);
  const auto init = r.be64("greeting magic");
  const auto second = r.be64("greeting second magic");
  if (init != NBDMAGIC) {
    return decode_failure("greeting magic", init, "expected NBDMAGIC 0x4e42444d41474943");
  }
  if (second == IHAVEOPT) return GreetingStyle::Newstyle;
  if (second == OLDSTYLE_MAGIC) return GreetingStyle::Oldstyle;
  return decode_failure("greeting second magic", second,
                        "expected IHAVEOPT 0x49484156454f5054 (newstyle) or 0x00420281861253 "
                        "(oldstyle)");
}

void encode_oldstyle_greeting(const OldstyleGreeting& g, Writer& w) {
  w.be64(NBDMAGIC);
  w.be64(OLDSTYLE_MAGIC);
  w.be64(g.export_size);
  w.be32(g.flags);
  w.zeroes(124);
}

Decoded<OldstyleGreeting> decode_oldstyle_greeting_rest(Bytes b) {
  if (auto e = expect_size(b, OLDSTYLE_GREETING_REST_SIZE, "oldstyle greeting")) {
    return tl::unexpected(*e);
  }
  Reader r(b);
  OldstyleGreeting g;
  g.export_size = r.be64("oldstyle export size");
  g.flags = r.be32("oldstyle flags");
  r.take(124, "oldstyle reserved bytes");  // reserved: their content is not ours to judge
  if (auto e = r.finish("oldstyle greeting")) return tl::unexpected(*e);
  return g;
}

Decoded<OldstyleGreeting> decode_oldstyle_greeting(Bytes b) {
  if (auto e = expect_size(b, OLDSTYLE_GREETING_SIZE, "oldstyle greeting")) {
    return tl::unexpected(*e);
  }
  auto style = decode_greeting_prefix(b.first(GREETING_PREFIX_SIZE));
  if (!style) return tl::unexpected(style.error());
  if (*style != GreetingStyle::Oldstyle) {
    return decode_failure("greeting second magic", IHAVEOPT, "is newstyle, expected oldstyle");
  }
  return decode_oldstyle_greeting_rest(b.subspan(GREETING_PREFIX_SIZE));
}

void encode_newstyle_greeting(const NewstyleGreeting& g, Writer& w) {
  w.be64(NBDMAGIC);
  w.be64(IHAVEOPT);
  w.be16(g.handshake_flags);
}

Decoded<std::uint16_t> decode_handshake_flags(Bytes b) {
  if (auto e = expect_size(b, HANDSHAKE_FLAGS_SIZE, "handshake flags")) return tl::unexpected(*e);
  return load_be16(b.data());
}

Decoded<NewstyleGreeting> decode_newstyle_greeting(Bytes b) {
  if (auto e = expect_size(b, NEWSTYLE_GREETING_SIZE, "newstyle greeting")) {
    return tl::unexpected(*e);
  }
  auto style = decode_greeting_prefix(b.first(GREETING_PREFIX_SIZE));
  if (!style) return tl::unexpected(style.error());
  if (*style != GreetingStyle::Newstyle) {
    return decode_failure("greeting second magic", OLDSTYLE_MAGIC,
                          "is oldstyle, expected newstyle");
  }
  return NewstyleGreeting{load_be16(b.data() + GREETING_PREFIX_SIZE)};
}

void encode_client_flags(std::uint32_t flags, Writer& w) {
  w.be32(flags);
}

Decoded<std::uint32_t> decode_client_flags(Bytes b) {
  if (auto e = expect_size(b, CLIENT_FLAGS_SIZE, "client flags")) return tl::unexpected(*e);
  return load_be32(b.data());
}

void encode_export_name_reply(const ExportNameReply& r, bool zero_padding, Writer& w) {
  w.be64(r.export_size);
  w.be16(r.transmission_flags);
  if (zero_padding) w.zeroes(EXPORT_NAME_REPLY_PADDING);
}

Decoded<ExportNameReply> decode_export_name_reply(Bytes b) {
  if (b.size() != EXPORT_NAME_REPLY_SIZE &&
      b.size() != EXPORT_NAME_REPLY_SIZE + EXPORT_NAME_REPLY_PADDING) {
    return decode_failure("export name reply size", b.size(), "expected 10 or 134 bytes");
  }
  return ExportNameReply{load_be64(b.data()), load_be16(b.data() + 8)};
}

}  // namespace nbdref::wire
