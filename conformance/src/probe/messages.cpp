#include "probe/messages.hpp"

#include "probe/printable.hpp"
#include "probe/probe_error.hpp"
#include "wire/bytes.hpp"
#include "wire/chunk.hpp"
#include "wire/constants.hpp"

namespace nbdref::conform {
namespace {

std::string describe_info(const wire::InfoReply& info) {
  return std::visit(
      [](const auto& i) -> std::string {
        using T = std::decay_t<decltype(i)>;
        if constexpr (std::is_same_v<T, wire::InfoExport>) {
          return "NBD_INFO_EXPORT " + describe_export(i.export_size, i.transmission_flags);
        } else if constexpr (std::is_same_v<T, wire::InfoName>) {
          return "NBD_INFO_NAME " + quoted(i.name);
        } else if constexpr (std::is_same_v<T, wire::InfoDescription>) {
          return "NBD_INFO_DESCRIPTION " + quoted(i.description);
        } else if constexpr (std::is_same_v<T, wire::InfoBlockSize>) {
          return "NBD_INFO_BLOCK_SIZE minimum " + std::to_string(i.minimum) + ", preferred " +
                 std::to_string(i.preferred) + ", maximum " + std::to_string(i.maximum);
        } else {
          return "information type " + std::to_string(i.type) + " (" +
                 std::to_string(i.data.size()) + " bytes)";
        }
      },
      info);
}

std::string describe_payload(const OptionReply& r) {
  const wire::Bytes payload(r.payload);
  if (r.is_error()) {
    if (payload.empty()) return "";
    return ", message " + quoted(wire::as_string_view(payload), 200);
  }
  switch (r.type) {
    case wire::NBD_REP_SERVER:
      if (auto s = wire::decode_server_reply(payload)) {
        std::string out = ": export " + quoted(s->name);
        if (!s->description.empty()) out += ", description " + quoted(s->description);
        return out;
      }
      break;
    case wire::NBD_REP_INFO:
      if (auto i = wire::decode_info_reply(payload)) return ": " + describe_info(*i);
      break;
    case wire::NBD_REP_META_CONTEXT:
      if (payload.size() >= 4) {
        return ": context id " + std::to_string(wire::load_be32(payload.data())) + ", name " +
               quoted(wire::as_string_view(payload.subspan(4)));
      }
      break;
    default:
      break;
  }
  return payload.empty() ? "" : ", " + std::to_string(payload.size()) + " bytes of data";
}

}  // namespace

bool OptionReply::is_error() const {
  return wire::is_error_reply(type);
}

bool OptionReply::is_final() const {
  return type == wire::NBD_REP_ACK || is_error();
}

std::string OptionReply::describe() const {
  return wire::describe_option_reply(type) + " for " + wire::describe_option(option) +
         describe_payload(*this);
}

std::vector<wire::InfoReply> decode_infos(const OptionReplies& replies) {
  std::vector<wire::InfoReply> infos;
  for (const OptionReply& r : replies) {
    if (r.type != wire::NBD_REP_INFO) continue;
    auto info = wire::decode_info_reply(r.payload);
    if (!info) throw violation("NBD_REP_INFO for " + wire::describe_option(r.option), info.error());
    infos.push_back(*info);
  }
  return infos;
}

std::optional<wire::InfoExport> find_export_info(const std::vector<wire::InfoReply>& infos) {
  for (const wire::InfoReply& i : infos) {
    if (const auto* e = std::get_if<wire::InfoExport>(&i)) return *e;
  }
  return std::nullopt;
}

std::string describe_export(std::uint64_t size, std::uint16_t flags) {
  return "size " + std::to_string(size) + ", flags " + wire::describe_transmission_flags(flags);
}

std::uint32_t TransmissionReply::error() const {
  if (is_simple()) return simple_error;
  for (const ReplyChunk& c : chunks) {
    if (wire::is_error_chunk(c.header.type) && c.payload.size() >= 4) {
      return wire::load_be32(c.payload.data());
    }
  }
  return 0;
}

std::string TransmissionReply::describe() const {
  if (is_simple()) return "simple reply, error " + describe_nbd_error(simple_error);
  std::string out = kind == wire::ReplyKind::Extended ? "extended reply: " : "structured reply: ";
  out += std::to_string(chunks.size()) + (chunks.size() == 1 ? " chunk (" : " chunks (");
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    if (i > 0) out += ", ";
    out += wire::describe_reply_type(chunks[i].header.type);
  }
  out += ")";
  if (const std::uint32_t e = error(); e != 0) out += ", error " + describe_nbd_error(e);
  return out;
}

std::string describe_nbd_error(std::uint32_t error) {
  if (error == 0) return "0 (success)";
  if (const char* name = wire::error_name(error)) {
    return std::string(name) + " (" + std::to_string(error) + ")";
  }
  return "unknown error " + std::to_string(error);
}

}  // namespace nbdref::conform
