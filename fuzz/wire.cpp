// Fuzz target "wire": every decoder of client/src/wire on arbitrary bytes.
// Invariant: a decoder never reads past its span (ASan) and whatever decodes
// re-encodes to bytes that decode to the same message.
// The first input byte picks the decoder; the rest is the message.
#include <cstdint>
#include <vector>

#include "invariant.hpp"

#include "wire/chunk.hpp"
#include "wire/handshake.hpp"
#include "wire/option_reply.hpp"
#include "wire/option_request.hpp"
#include "wire/reply.hpp"
#include "wire/request.hpp"

using namespace nbdref::wire;

namespace {

template <class T, class Decode, class Encode, class Same>
void round_trip(Bytes input, Decode decode, Encode encode, Same same) {
  auto first = decode(input);
  if (!first) return;
  std::vector<std::uint8_t> bytes;
  Writer w(bytes);
  encode(*first, w);
  auto second = decode(Bytes(bytes));
  FUZZ_REQUIRE(second.has_value());
  FUZZ_REQUIRE(same(*first, *second));
}

template <std::size_t N, class Decode, class Encode, class Same>
void round_trip_fixed(Bytes input, Decode decode, Encode encode, Same same) {
  auto first = decode(input);
  if (!first) return;
  std::uint8_t bytes[N];
  encode(*first, bytes);
  auto second = decode(Bytes(bytes, N));
  FUZZ_REQUIRE(second.has_value());
  FUZZ_REQUIRE(same(*first, *second));
}

bool same_request(const RequestHeader& a, const RequestHeader& b) {
  return a.flags == b.flags && a.type == b.type && a.cookie == b.cookie && a.offset == b.offset &&
         a.length == b.length;
}
bool same_chunk(const ChunkHeader& a, const ChunkHeader& b) {
  return a.flags == b.flags && a.type == b.type && a.cookie == b.cookie && a.offset == b.offset &&
         a.length == b.length;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const Bytes in(data + 1, size - 1);
  switch (data[0] % 17) {
    case 0:
      (void)decode_greeting_prefix(in);
      break;
    case 1:
      round_trip<OldstyleGreeting>(
          in, decode_oldstyle_greeting, encode_oldstyle_greeting,
          [](auto& a, auto& b) { return a.export_size == b.export_size && a.flags == b.flags; });
      break;
    case 2:
      round_trip<NewstyleGreeting>(
          in, decode_newstyle_greeting, encode_newstyle_greeting,
          [](auto& a, auto& b) { return a.handshake_flags == b.handshake_flags; });
      break;
    case 3:
      round_trip<ExportNameReply>(
          in, decode_export_name_reply,
          [&](const ExportNameReply& r, Writer& w) {
            encode_export_name_reply(r, in.size() > 10, w);
          },
          [](auto& a, auto& b) {
            return a.export_size == b.export_size && a.transmission_flags == b.transmission_flags;
          });
      break;
    case 4:
      round_trip<OptionReplyHeader>(
          in, decode_option_reply_header, encode_option_reply_header, [](auto& a, auto& b) {
            return a.option == b.option && a.reply_type == b.reply_type && a.length == b.length;
          });
      break;
    case 5:
      round_trip<ServerReply>(in, decode_server_reply, encode_server_reply, [](auto& a, auto& b) {
        return a.name == b.name && a.description == b.description;
      });
      break;
    case 6:
      round_trip<InfoReply>(in, decode_info_reply, encode_info_reply,
                            [](auto& a, auto& b) { return a.index() == b.index(); });
      break;
    case 7:
      round_trip<MetaContextReply>(
          in, decode_meta_context_reply, encode_meta_context_reply,
          [](auto& a, auto& b) { return a.context_id == b.context_id && a.name == b.name; });
      break;
    case 8:
      round_trip<InfoRequest>(in, decode_info_request, encode_info_request, [](auto& a, auto& b) {
        return a.export_name == b.export_name && a.info_types == b.info_types;
      });
      break;
    case 9:
      round_trip<MetaContextRequest>(
          in, decode_meta_context_request, encode_meta_context_request, [](auto& a, auto& b) {
            return a.export_name == b.export_name && a.queries == b.queries;
          });
      break;
    case 10:
      round_trip_fixed<COMPACT_REQUEST_SIZE>(in, decode_compact_request, encode_compact_request,
                                             same_request);
      break;
    case 11:
      round_trip_fixed<EXTENDED_REQUEST_SIZE>(in, decode_extended_request, encode_extended_request,
                                              same_request);
      break;
    case 12:
      round_trip<SimpleReply>(in, decode_simple_reply, encode_simple_reply, [](auto& a, auto& b) {
        return a.error == b.error && a.cookie == b.cookie;
      });
      break;
    case 13:
      round_trip<ChunkHeader>(in, decode_structured_reply_header, encode_structured_reply_header,
                              same_chunk);
      round_trip<ChunkHeader>(in, decode_extended_reply_header, encode_extended_reply_header,
                              same_chunk);
      break;
    case 14:
      round_trip<OffsetHole>(in, decode_offset_hole, encode_offset_hole, [](auto& a, auto& b) {
        return a.offset == b.offset && a.length == b.length;
      });
      round_trip<OffsetData>(in, decode_offset_data, encode_offset_data, [](auto& a, auto& b) {
        return a.offset == b.offset && a.data.size() == b.data.size();
      });
      break;
    case 15: {
      for (bool wide : {false, true}) {
        auto v = wide ? decode_block_status_ext(in) : decode_block_status(in);
        if (!v) continue;
        std::vector<BlockDescriptor> d;
        for (std::size_t i = 0; i < v->size(); ++i) d.push_back((*v)[i]);
        std::vector<std::uint8_t> bytes;
        Writer w(bytes);
        wide ? encode_block_status_ext(v->context_id(), d, w)
             : encode_block_status(v->context_id(), d, w);
        FUZZ_REQUIRE(bytes.size() == in.size());
      }
      break;
    }
    case 16: {
      const std::uint16_t type = in.size() >= 2 ? load_be16(in.data()) : 0;
      const Bytes payload = in.size() >= 2 ? in.subspan(2) : in;
      auto e = decode_error_chunk(type, payload);
      if (!e) break;
      std::vector<std::uint8_t> bytes;
      Writer w(bytes);
      encode_error_chunk(*e, w);
      auto again = decode_error_chunk(type, bytes);
      FUZZ_REQUIRE(again && again->error == e->error && again->message == e->message &&
                   again->offset == e->offset);
      break;
    }
  }
  return 0;
}
