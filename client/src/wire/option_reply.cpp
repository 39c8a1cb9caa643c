#include "wire/option_reply.hpp"

#include "wire/constants.hpp"
#include "wire/limits.hpp"
#include "wire/reader.hpp"
#include "wire/strings.hpp"

namespace nbdref::wire {
namespace {

bool is_power_of_two(std::uint32_t v) {
  return v != 0 && (v & (v - 1)) == 0;
}

// proto.md "Size constraints": the relations between the three sizes.
std::optional<DecodeError> check_block_sizes(const InfoBlockSize& s) {
  if (!is_power_of_two(s.minimum)) {
    return DecodeError{"NBD_INFO_BLOCK_SIZE minimum", s.minimum, "is not a power of two",
                       "S-SZ-007"};
  }
  if (s.minimum > MAX_MINIMUM_BLOCK_SIZE) {
    return DecodeError{"NBD_INFO_BLOCK_SIZE minimum", s.minimum, "exceeds 65536", "S-SZ-008"};
  }
  if (!is_power_of_two(s.preferred)) {
    return DecodeError{"NBD_INFO_BLOCK_SIZE preferred", s.preferred, "is not a power of two",
                       "S-SZ-010"};
  }
  if (s.preferred < 512 || s.preferred < s.minimum) {
    return DecodeError{"NBD_INFO_BLOCK_SIZE preferred", s.preferred,
                       "is below 512 or below the minimum " + std::to_string(s.minimum),
                       "S-SZ-011"};
  }
  if (s.maximum < s.preferred) {
    return DecodeError{"NBD_INFO_BLOCK_SIZE maximum", s.maximum,
                       "is below the preferred size " + std::to_string(s.preferred), "S-SZ-013"};
  }
  return std::nullopt;
}

}  // namespace

void encode_option_reply_header(const OptionReplyHeader& h, Writer& w) {
  w.be64(OPTION_REPLY_MAGIC);
  w.be32(h.option);
  w.be32(h.reply_type);
  w.be32(h.length);
}

void encode_option_reply(std::uint32_t option, std::uint32_t reply_type, Bytes payload, Writer& w) {
  encode_option_reply_header({option, reply_type, static_cast<std::uint32_t>(payload.size())}, w);
  w.bytes(payload);
}

Decoded<OptionReplyHeader> decode_option_reply_header(Bytes b) {
  if (auto e = expect_size(b, OPTION_REPLY_HEADER_SIZE, "option reply header")) {
    return tl::unexpected(*e);
  }
  Reader r(b);
  const auto magic = r.be64("option reply magic");
  OptionReplyHeader h;
  h.option = r.be32("option reply option");
  h.reply_type = r.be32("option reply type");
  h.length = r.be32("option reply length");
  if (magic != OPTION_REPLY_MAGIC) {
    return decode_failure("option reply magic", magic, "expected 0x3e889045565a9", "S-OPT-020");
  }
  return h;
}

void encode_server_reply(const ServerReply& s, Writer& w) {
  w.be32(static_cast<std::uint32_t>(s.name.size()));
  w.string(s.name);
  w.string(s.description);
}

Decoded<ServerReply> decode_server_reply(Bytes payload) {
  Reader r(payload);
  const auto name_length = r.be32("NBD_REP_SERVER name length");
  if (r.ok() && name_length > r.remaining()) {
    return decode_failure("NBD_REP_SERVER name length", name_length,
                          "exceeds the reply length - 4 (" + std::to_string(r.remaining()) + ")",
                          "S-OPT-021");
  }
  ServerReply s;
  s.name = as_string_view(r.take(name_length, "NBD_REP_SERVER name"));
  s.description = as_string_view(r.rest());
  if (auto e = r.finish("NBD_REP_SERVER")) return tl::unexpected(*e);
  if (auto e = check_string(s.name, "NBD_REP_SERVER name", SERVER_STRING)) {
    return tl::unexpected(*e);
  }
  if (auto e = check_string(s.description, "NBD_REP_SERVER description", SERVER_STRING)) {
    return tl::unexpected(*e);
  }
  return s;
}

void encode_info_reply(const InfoReply& info, Writer& w) {
  std::visit(
      [&w](const auto& i) {
        using T = std::decay_t<decltype(i)>;
        if constexpr (std::is_same_v<T, InfoExport>) {
          w.be16(NBD_INFO_EXPORT);
          w.be64(i.export_size);
          w.be16(i.transmission_flags);
        } else if constexpr (std::is_same_v<T, InfoName>) {
          w.be16(NBD_INFO_NAME);
          w.string(i.name);
        } else if constexpr (std::is_same_v<T, InfoDescription>) {
          w.be16(NBD_INFO_DESCRIPTION);
          w.string(i.description);
        } else if constexpr (std::is_same_v<T, InfoBlockSize>) {
          w.be16(NBD_INFO_BLOCK_SIZE);
          w.be32(i.minimum);
          w.be32(i.preferred);
          w.be32(i.maximum);
        } else {
          w.be16(i.type);
          w.bytes(i.data);
        }
      },
      info);
}

Decoded<InfoReply> decode_info_reply(Bytes payload) {
  Reader r(payload);
  const auto type = r.be16("NBD_REP_INFO type");
  if (!r.ok()) {
    return decode_failure("NBD_REP_INFO length", payload.size(),
                          "is too short to hold the 2-byte information type");
  }
  switch (type) {
    case NBD_INFO_EXPORT: {
      if (payload.size() != 12) {
        return decode_failure("NBD_INFO_EXPORT length", payload.size(), "must be exactly 12",
                              "S-OPT-023");
      }
      InfoExport e;
      e.export_size = r.be64("NBD_INFO_EXPORT size");
      e.transmission_flags = r.be16("NBD_INFO_EXPORT transmission flags");
      return e;
    }
    case NBD_INFO_NAME: {
      InfoName n{as_string_view(r.rest())};
      if (auto e = check_string(n.name, "NBD_INFO_NAME", SERVER_STRING)) return tl::unexpected(*e);
      return n;
    }
    case NBD_INFO_DESCRIPTION: {
      InfoDescription d{as_string_view(r.rest())};
      if (auto e = check_string(d.description, "NBD_INFO_DESCRIPTION", SERVER_STRING)) {
        return tl::unexpected(*e);
      }
      return d;
    }
    case NBD_INFO_BLOCK_SIZE: {
      if (payload.size() != 14) {
        return decode_failure("NBD_INFO_BLOCK_SIZE length", payload.size(), "must be exactly 14",
                              "S-SZ-025");
      }
      InfoBlockSize s;
      s.minimum = r.be32("NBD_INFO_BLOCK_SIZE minimum");
      s.preferred = r.be32("NBD_INFO_BLOCK_SIZE preferred");
      s.maximum = r.be32("NBD_INFO_BLOCK_SIZE maximum");
      if (auto e = check_block_sizes(s)) return tl::unexpected(*e);
      return s;
    }
    default:
      return InfoUnknown{type, r.rest()};
  }
}

void encode_meta_context_reply(const MetaContextReply& m, Writer& w) {
  w.be32(m.context_id);
  w.string(m.name);
}

Decoded<MetaContextReply> decode_meta_context_reply(Bytes payload) {
  Reader r(payload);
  MetaContextReply m;
  m.context_id = r.be32("NBD_REP_META_CONTEXT id");
  m.name = as_string_view(r.rest());
  if (auto e = r.finish("NBD_REP_META_CONTEXT")) return tl::unexpected(*e);
  if (auto e = check_string(m.name, "NBD_REP_META_CONTEXT name", SERVER_STRING)) {
    return tl::unexpected(*e);
  }
  // S-BS-005 (proto.md "Metadata querying"): "namespace:leaf", namespace non-empty.
  const auto colon = m.name.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return decode_failure(
        "NBD_REP_META_CONTEXT name", std::nullopt,
        "'" + std::string(m.name) + "' does not start with a namespace and a colon", "S-BS-005");
  }
  return m;
}

Decoded<std::string_view> decode_error_reply_message(Bytes payload) {
  const auto message = as_string_view(payload);
  if (auto e = check_string(message, "option error message", SERVER_STRING)) {
    return tl::unexpected(*e);
  }
  return message;
}

}  // namespace nbdref::wire
