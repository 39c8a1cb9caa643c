#include "wire/option_request.hpp"

#include "wire/constants.hpp"
#include "wire/limits.hpp"
#include "wire/reader.hpp"
#include "wire/strings.hpp"

namespace nbdref::wire {

void encode_option_request(std::uint32_t option, Bytes data, Writer& w) {
  w.be64(IHAVEOPT);
  w.be32(option);
  w.be32(static_cast<std::uint32_t>(data.size()));
  w.bytes(data);
}

Decoded<OptionRequestHeader> decode_option_request_header(Bytes b) {
  if (auto e = expect_size(b, OPTION_REQUEST_HEADER_SIZE, "option request header")) {
    return tl::unexpected(*e);
  }
  Reader r(b);
  const auto magic = r.be64("option request magic");
  OptionRequestHeader h;
  h.option = r.be32("option");
  h.length = r.be32("option length");
  if (magic != IHAVEOPT) {
    return decode_failure("option request magic", magic, "expected IHAVEOPT 0x49484156454f5054");
  }
  return h;
}

void encode_info_request(const InfoRequest& req, Writer& w) {
  w.be32(static_cast<std::uint32_t>(req.export_name.size()));
  w.string(req.export_name);
  w.be16(static_cast<std::uint16_t>(req.info_types.size()));
  for (auto t : req.info_types) w.be16(t);
}

Decoded<InfoRequest> decode_info_request(Bytes data) {
  Reader r(data);
  InfoRequest req;
  const auto name_length = r.be32("INFO/GO export name length");
  // C-OPT-010 (proto.md "NBD_OPT_INFO / NBD_OPT_GO"): the name leaves room for the count.
  if (r.ok() && (name_length > r.remaining() || r.remaining() - name_length < 2)) {
    return decode_failure("INFO/GO export name length", name_length,
                          "exceeds the option length - 6 (" +
                              std::to_string(data.size() < 6 ? 0 : data.size() - 6) + ")",
                          "C-OPT-010");
  }
  req.export_name = as_string_view(r.take(name_length, "INFO/GO export name"));
  const auto count = r.be16("INFO/GO information request count");
  if (r.ok() && std::size_t{count} * 2 != r.remaining()) {
    return decode_failure(
        "INFO/GO information request count", count,
        "does not match the " + std::to_string(r.remaining()) + " bytes left in the option",
        "C-OPT-010");
  }
  req.info_types.reserve(count);
  for (std::uint16_t i = 0; i < count && r.ok(); ++i) {
    req.info_types.push_back(r.be16("INFO/GO information request"));
  }
  if (auto e = r.finish("INFO/GO option data")) return tl::unexpected(*e);
  if (auto e = check_string(req.export_name, "INFO/GO export name", CLIENT_STRING)) {
    return tl::unexpected(*e);
  }
  return req;
}

void encode_meta_context_request(const MetaContextRequest& req, Writer& w) {
  w.be32(static_cast<std::uint32_t>(req.export_name.size()));
  w.string(req.export_name);
  w.be32(static_cast<std::uint32_t>(req.queries.size()));
  for (auto q : req.queries) {
    w.be32(static_cast<std::uint32_t>(q.size()));
    w.string(q);
  }
}

Decoded<MetaContextRequest> decode_meta_context_request(Bytes data) {
  Reader r(data);
  MetaContextRequest req;
  const auto name_length = r.be32("meta context export name length");
  req.export_name = as_string_view(r.take(name_length, "meta context export name"));
  const auto count = r.be32("meta context query count");
  // Each query needs at least its 4-byte length: this bounds the reservation.
  if (r.ok() && std::uint64_t{count} * 4 > r.remaining()) {
    return decode_failure(
        "meta context query count", count,
        "cannot fit in the " + std::to_string(r.remaining()) + " bytes left in the option",
        "S-BS-020");
  }
  req.queries.reserve(count);
  for (std::uint32_t i = 0; i < count && r.ok(); ++i) {
    const auto len = r.be32("meta context query length");
    req.queries.push_back(as_string_view(r.take(len, "meta context query")));
  }
  if (auto e = r.finish("meta context option data")) return tl::unexpected(*e);
  if (auto e = check_string(req.export_name, "meta context export name", CLIENT_STRING)) {
    return tl::unexpected(*e);
  }
  for (auto q : req.queries) {
    if (auto e = check_string(q, "meta context query", CLIENT_STRING)) return tl::unexpected(*e);
  }
  return req;
}

}  // namespace nbdref::wire
