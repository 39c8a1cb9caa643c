#include "server/step_encoder.hpp"

#include <utility>

#include "wire/chunk.hpp"
#include "wire/constants.hpp"
#include "wire/handshake.hpp"
#include "wire/limits.hpp"
#include "wire/option_reply.hpp"
#include "wire/reply.hpp"
#include "wire/writer.hpp"

namespace nbdref::mock::playback {
namespace {

using namespace wire;
using script::StepKind;
using O = Verdict::Outcome;

std::string name_or(const char* name, const std::string& fallback) {
  return name ? std::string(name) : fallback;
}

std::string option_label(std::uint32_t option) {
  return name_or(option_name(option), "option " + std::to_string(option));
}

std::string reply_type_label(std::uint32_t type) {
  return name_or(option_reply_name(type), "option reply type " + hex(type));
}

std::string info_label(std::uint16_t type) {
  return name_or(info_name(type), "information type " + std::to_string(type));
}

std::string chunk_type_label(std::uint16_t type) {
  return name_or(reply_type_name(type), "chunk type " + std::to_string(type));
}

std::string error_label(std::uint32_t error) {
  if (error == 0) return "0";
  return name_or(error_name(error), "error") + " (" + std::to_string(error) + ")";
}

std::string reply_flags_label(std::uint16_t flags) {
  if (flags == 0) return "0";
  std::string out;
  if (flags & NBD_REPLY_FLAG_DONE) out = "NBD_REPLY_FLAG_DONE";
  const std::uint16_t rest = flags & static_cast<std::uint16_t>(~NBD_REPLY_FLAG_DONE);
  if (rest != 0) out += (out.empty() ? "" : "|") + hex(rest);
  return out;
}

// Fields written over the encoder's output, noted for the description.
class Overrides {
 public:
  Overrides(const Args& args, std::vector<std::uint8_t>& bytes) : args_(args), bytes_(bytes) {}

  // When the step gives `key`, writes it big-endian, `bits` wide, at `offset`.
  Result<void> field(std::string_view key, std::size_t offset, unsigned bits) {
    auto v = args_.maybe_number(key, bits);
    if (!v) return tl::unexpected(v.error());
    if (!*v) return {};
    std::uint8_t* p = bytes_.data() + offset;
    switch (bits) {
      case 16:
        store_be16(p, static_cast<std::uint16_t>(**v));
        break;
      case 32:
        store_be32(p, static_cast<std::uint32_t>(**v));
        break;
      default:
        store_be64(p, **v);
        break;
    }
    note(std::string(key) + " " + (key.ends_with("magic") ? hex(**v) : std::to_string(**v)));
    return {};
  }
  void note(std::string text) { notes_.push_back(std::move(text)); }

  std::string suffix() const {
    if (notes_.empty()) return {};
    std::string out = " [overridden:";
    for (std::size_t i = 0; i < notes_.size(); ++i) out += (i ? ", " : " ") + notes_[i];
    return out + "]";
  }

 private:
  const Args& args_;
  std::vector<std::uint8_t>& bytes_;
  std::vector<std::string> notes_;
};

#define TRY(var, expr)                                            \
  auto var##_result = (expr);                                     \
  if (!var##_result) return tl::unexpected(var##_result.error()); \
  auto var = std::move(*var##_result)

#define TRY_VOID(expr)                                                    \
  do {                                                                    \
    auto try_void_result = (expr);                                        \
    if (!try_void_result) return tl::unexpected(try_void_result.error()); \
  } while (0)

Result<std::uint64_t> checked_size(const Step& step, std::string_view key, std::uint64_t n) {
  if (n > MAX_READ) {
    return fail_key(step, O::ScriptError, key,
                    std::to_string(n) + " bytes are more than a step sends (64 MiB)");
  }
  return n;
}

// ---- handshake ----

Result<Encoded> greeting_newstyle(const Step& step, const Args& a) {
  // S-HS-014 (proto.md "Handshake flags"): a fixed-newstyle server sets FIXED_NEWSTYLE; NO_ZEROES
  // is offered too.
  TRY(flags, a.number("flags", NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES, 16));
  (void)step;
  Encoded e;
  Writer w(e.bytes);
  encode_newstyle_greeting({static_cast<std::uint16_t>(flags)}, w);
  Overrides o(a, e.bytes);
  TRY_VOID(o.field("magic", 0, 64));
  TRY_VOID(o.field("opt-magic", 8, 64));
  e.description = "newstyle greeting, handshake flags " +
                  describe_handshake_flags(static_cast<std::uint16_t>(flags)) + o.suffix();
  e.next_phase = Phase::Greeted;
  e.greeting_flags = static_cast<std::uint16_t>(flags);
  return e;
}

Result<Encoded> greeting_oldstyle(const Step& step, const Args& a) {
  TRY(size, a.number("size", DEFAULT_EXPORT_SIZE));
  // S-TX-015 (proto.md "Transmission flags"): HAS_FLAGS always; S-HS-018 (proto.md "Handshake
  // flags"): no handshake flags in the upper half.
  TRY(flags, a.number("flags", NBD_FLAG_HAS_FLAGS, 32));
  TRY(padding_arg, a.number("padding", EXPORT_NAME_REPLY_PADDING));
  TRY(padding, checked_size(step, "padding", padding_arg));
  Encoded e;
  Writer w(e.bytes);
  encode_oldstyle_greeting({size, static_cast<std::uint32_t>(flags)}, w);
  Overrides o(a, e.bytes);
  TRY_VOID(o.field("magic", 0, 64));
  TRY_VOID(o.field("cliserv-magic", 8, 64));
  e.bytes.resize(OLDSTYLE_GREETING_SIZE - 124 + padding);
  if (a.has("padding")) o.note("padding " + std::to_string(padding));
  e.description = "oldstyle greeting: size " + std::to_string(size) + ", flags " +
                  describe_transmission_flags(static_cast<std::uint16_t>(flags));
  if (flags >> 16) e.description += ", handshake flags " + hex(flags >> 16);
  e.description += o.suffix();
  e.next_phase = Phase::Transmission;
  e.oldstyle = true;
  return e;
}

Result<Encoded> export_name_reply(const Step& step, const Conversation& c, const Args& a) {
  TRY(size, a.number("size", DEFAULT_EXPORT_SIZE));
  // S-TX-015 (proto.md "Transmission flags")
  TRY(flags, a.number("flags", NBD_FLAG_HAS_FLAGS, 16));
  // S-HS-015 (proto.md "Handshake flags"): no padding once the client answered NO_ZEROES.
  const bool no_zeroes = c.client_flags && (*c.client_flags & NBD_FLAG_C_NO_ZEROES);
  TRY(padding_arg, a.number("padding", no_zeroes ? 0 : EXPORT_NAME_REPLY_PADDING));
  TRY(padding, checked_size(step, "padding", padding_arg));
  Encoded e;
  Writer w(e.bytes);
  encode_export_name_reply({size, static_cast<std::uint16_t>(flags)}, false, w);
  w.zeroes(static_cast<std::size_t>(padding));
  e.description = "export-name reply: size " + std::to_string(size) + ", flags " +
                  describe_transmission_flags(static_cast<std::uint16_t>(flags)) + ", " +
                  byte_count(padding) + " of padding";
  e.next_phase = Phase::Transmission;
  return e;
}

// ---- option replies ----

struct ReplyBody {
  std::uint32_t type = NBD_REP_ACK;
  std::vector<std::uint8_t> payload;
  std::string detail;
  bool type_is_key = false;  // reply raw: type= is the type, not an override
};

Result<Encoded> option_reply(const Step& step, const Conversation& c, const Args& a) {
  (void)step;
  TRY(option_number, a.subject_number(0, 32));
  const auto option = static_cast<std::uint32_t>(option_number);
  ReplyBody r;
  // Payload fields overridden after encoding: key, offset in the payload, bits.
  struct PayloadOverride {
    std::string_view key;
    std::size_t offset;
    unsigned bits;
  };
  std::vector<PayloadOverride> payload_overrides;
  std::optional<std::string> context_name;
  std::uint32_t context_id = 0;
  Writer w(r.payload);
  switch (step.kind) {
    case StepKind::ReplyAck:
      break;
    case StepKind::ReplyServer: {
      TRY(name, a.text("name", ""));
      TRY(details, a.text("details", ""));
      r.type = NBD_REP_SERVER;
      encode_server_reply({name, details}, w);
      r.detail = quote(name) + (details.empty() ? "" : " " + quote(details));
      // S-OPT-021 (proto.md "Option reply types")
      payload_overrides.push_back({"name-length", 0, 32});
      break;
    }
    case StepKind::ReplyInfoExport: {
      TRY(size, a.number("size", DEFAULT_EXPORT_SIZE));
      // S-TX-015 (proto.md "Transmission flags")
      TRY(flags, a.number("flags", NBD_FLAG_HAS_FLAGS, 16));
      r.type = NBD_REP_INFO;
      // S-OPT-023 (proto.md "Option reply types"): exactly 12 bytes.
      encode_info_reply(InfoExport{size, static_cast<std::uint16_t>(flags)}, w);
      r.detail = "NBD_INFO_EXPORT size " + std::to_string(size) + " flags " +
                 describe_transmission_flags(static_cast<std::uint16_t>(flags));
      payload_overrides.push_back({"info-type", 0, 16});
      break;
    }
    case StepKind::ReplyInfoName: {
      // S-OPT-024 (proto.md "Option reply types"): the canonical name; by default the one the
      // client asked for.
      TRY(name, a.text("name", c.export_name));
      r.type = NBD_REP_INFO;
      encode_info_reply(InfoName{name}, w);
      r.detail = "NBD_INFO_NAME " + quote(name);
      payload_overrides.push_back({"info-type", 0, 16});
      break;
    }
    case StepKind::ReplyInfoDescription: {
      TRY(text, a.text("text", ""));
      r.type = NBD_REP_INFO;
      encode_info_reply(InfoDescription{text}, w);
      r.detail = "NBD_INFO_DESCRIPTION " + quote(text);
      payload_overrides.push_back({"info-type", 0, 16});
      break;
    }
    case StepKind::ReplyInfoBlockSize: {
      // S-SZ-003 (proto.md "Size constraints"): the protocol's defaults.
      TRY(minimum, a.number("minimum", 1, 32));
      TRY(preferred, a.number("preferred", 4096, 32));
      TRY(maximum, a.number("maximum", DEFAULT_MAX_PAYLOAD, 32));
      r.type = NBD_REP_INFO;
      encode_info_reply(
          InfoBlockSize{static_cast<std::uint32_t>(minimum), static_cast<std::uint32_t>(preferred),
                        static_cast<std::uint32_t>(maximum)},
          w);
      r.detail = "NBD_INFO_BLOCK_SIZE minimum " + std::to_string(minimum) + " preferred " +
                 std::to_string(preferred) + " maximum " + std::to_string(maximum);
      payload_overrides.push_back({"info-type", 0, 16});
      break;
    }
    case StepKind::ReplyInfoRaw: {
      TRY(info_type, a.number("info-type", NBD_INFO_EXPORT, 16));
      TRY(data, a.bytes("data", {}));
      r.type = NBD_REP_INFO;
      w.be16(static_cast<std::uint16_t>(info_type));
      w.bytes(data);
      r.detail = info_label(static_cast<std::uint16_t>(info_type)) + ", " + byte_count(data.size());
      break;
    }
    case StepKind::ReplyMetaContext: {
      // S-BS-032 (proto.md "NBD_OPT_LIST_META_CONTEXT"): context ids in answers to LIST are zero.
      TRY(id, a.number("id", option == NBD_OPT_LIST_META_CONTEXT ? 0 : 1, 32));
      TRY(name, a.text("name", "base:allocation"));
      r.type = NBD_REP_META_CONTEXT;
      encode_meta_context_reply({static_cast<std::uint32_t>(id), name}, w);
      r.detail = "id " + std::to_string(id) + " " + quote(name);
      context_name = name;
      context_id = static_cast<std::uint32_t>(id);
      break;
    }
    case StepKind::ReplyError: {
      TRY(error, a.subject_number(1, 32));
      TRY(message, a.text("message", ""));
      r.type = static_cast<std::uint32_t>(error);
      // S-OPT-027 (proto.md "Option reply types"): text for a human
      w.string(message);
      if (!message.empty()) r.detail = quote(message);
      break;
    }
    case StepKind::ReplyRaw: {
      TRY(type, a.number("type", NBD_REP_ACK, 32));
      TRY(data, a.bytes("data", {}));
      r.type = static_cast<std::uint32_t>(type);
      r.type_is_key = true;
      w.bytes(data);
      r.detail = byte_count(data.size()) + " of payload";
      break;
    }
    default:
      return fail(step, O::ScriptError, "is not an option reply");
  }

  Encoded e;
  Writer out(e.bytes);
  // S-OPT-020 (proto.md "Option reply types"): the reply magic, then the option being answered.
  encode_option_reply(option, r.type, r.payload, out);
  Overrides o(a, e.bytes);
  TRY_VOID(o.field("magic", 0, 64));
  if (!r.type_is_key) TRY_VOID(o.field("type", 12, 32));
  TRY_VOID(o.field("length", 16, 32));
  for (const auto& p : payload_overrides) {
    TRY_VOID(o.field(p.key, OPTION_REPLY_HEADER_SIZE + p.offset, p.bits));
  }
  const std::uint32_t type = load_be32(e.bytes.data() + 12);
  e.description = reply_type_label(type) + " for " + option_label(option) +
                  (r.detail.empty() ? "" : ": " + r.detail) + o.suffix();
  if (type == NBD_REP_ACK) {
    if (option == NBD_OPT_STRUCTURED_REPLY) e.structured = true;
    if (option == NBD_OPT_EXTENDED_HEADERS) e.extended = true;
    // S-OPT-019 (proto.md "NBD_OPT_INFO / NBD_OPT_GO"): transmission starts right after the ACK to
    // GO.
    if (option == NBD_OPT_GO) e.next_phase = Phase::Transmission;
  }
  if (type == NBD_REP_META_CONTEXT && option == NBD_OPT_SET_META_CONTEXT && context_name &&
      *context_name == "base:allocation") {
    e.allocation_id = context_id;
  }
  return e;
}

// ---- transmission ----

Result<Encoded> simple_reply(const Step& step, const Conversation& c, const Args& a) {
  (void)step;
  const std::uint64_t last_cookie = c.last_request ? c.last_request->cookie : 0;
  // S-TX-002 (proto.md "Transmission")
  TRY(cookie, a.number("cookie", last_cookie));
  TRY(error, a.number("error", 0, 32));
  TRY(data, a.bytes("data", {}));
  Encoded e;
  Writer w(e.bytes);
  encode_simple_reply({static_cast<std::uint32_t>(error), cookie}, w);
  w.bytes(data);
  Overrides o(a, e.bytes);
  TRY_VOID(o.field("magic", 0, 32));
  e.description = "simple reply, cookie " + hex(cookie) + ", error " +
                  error_label(static_cast<std::uint32_t>(error)) +
                  (data.empty() ? "" : ", " + byte_count(data.size()) + " of data") + o.suffix();
  return e;
}

Result<std::vector<BlockDescriptor>> descriptors(const Step& step, const Args& a,
                                                 const Conversation& c, bool wide) {
  std::vector<BlockDescriptor> out;
  const Value* v = a.raw("extents");
  if (!v) {
    // One extent over the request, status 0: always a safe answer (S-BS-055,
    // proto.md "NBD_CMD_BLOCK_STATUS").
    const std::uint64_t length = c.last_request ? c.last_request->length : 0;
    out.push_back({wide ? length : std::min<std::uint64_t>(length, UINT32_MAX), 0});
    return out;
  }
  if (v->kind != Value::Kind::Extents) {
    return fail_key(step, O::ScriptError, "extents", "needs length:flags,...");
  }
  for (const auto& x : v->extents) {
    if (!wide && x.length > UINT32_MAX) {
      return fail_key(step, O::ScriptError, "extents",
                      "extent length " + std::to_string(x.length) +
                          " does not fit a 32-bit descriptor (chunk block-status-ext has 64)");
    }
    out.push_back({x.length, x.flags});
  }
  return out;
}

std::string descriptors_text(std::uint32_t id, const std::vector<BlockDescriptor>& d) {
  std::string out = "context " + std::to_string(id) + ", " + std::to_string(d.size()) +
                    (d.size() == 1 ? " extent" : " extents");
  for (std::size_t i = 0; i < d.size() && i < 8; ++i) {
    out += (i ? "," : " ") + std::to_string(d[i].length) + ":" + std::to_string(d[i].status);
  }
  if (d.size() > 8) out += ",...";
  return out;
}

Result<Encoded> chunk(const Step& step, const Conversation& c, const Args& a) {
  const auto form = a.word("form");
  if (form && *form != "structured" && *form != "extended") {
    return fail_key(step, O::ScriptError, "form", "a chunk has a structured or an extended header");
  }
  // X-S-005 (proto-extended-headers.md "Extended reply chunk message"): extended headers once
  // negotiated, structured otherwise.
  const bool extended = form ? *form == "extended" : c.extended;
  if (!extended && a.has("header-offset")) {
    return fail_key(step, O::ScriptError, "header-offset",
                    "only the extended header has an offset field");
  }
  const RequestSeen req = c.last_request.value_or(RequestSeen{});
  // S-TX-002 (proto.md "Transmission")
  TRY(cookie, a.number("cookie", req.cookie));
  // X-S-006 (proto-extended-headers.md "Extended reply chunk message"): the extended header repeats
  // the request's offset.
  TRY(header_offset, a.number("header-offset", req.offset));

  std::uint16_t type = NBD_REPLY_TYPE_NONE;
  std::uint16_t default_flags = 0;
  std::vector<std::uint8_t> payload;
  Writer w(payload);
  std::string detail;
  struct PayloadOverride {
    std::string_view key;
    std::size_t offset;
    unsigned bits;
  };
  std::optional<PayloadOverride> payload_override;
  switch (step.kind) {
    case StepKind::ChunkNone:
      // S-SR-015 (proto.md "Structured reply flags"), S-SR-018 (proto.md
      // "Structured reply types"): always DONE, never a payload.
      default_flags = NBD_REPLY_FLAG_DONE;
      break;
    case StepKind::ChunkData: {
      TRY(offset, a.number("offset", req.offset));
      std::vector<std::uint8_t> data;
      if (a.has("data")) {
        TRY(given, a.bytes("data", {}));
        data = std::move(given);
      } else {
        TRY(length, checked_size(step, "data", req.length));
        data.assign(static_cast<std::size_t>(length), 0);
      }
      type = NBD_REPLY_TYPE_OFFSET_DATA;
      // S-SR-020 (proto.md "Structured reply types")
      encode_offset_data({offset, data}, w);
      detail = "offset " + std::to_string(offset) + ", " + byte_count(data.size());
      break;
    }
    case StepKind::ChunkHole: {
      TRY(offset, a.number("offset", req.offset));
      if (!a.has("size") && req.length > UINT32_MAX) {
        return fail(step, O::ScriptError,
                    "the request's length " + std::to_string(req.length) +
                        " does not fit a hole's 32-bit size; give size=");
      }
      TRY(size, a.number("size", req.length, 32));
      type = NBD_REPLY_TYPE_OFFSET_HOLE;
      // S-SR-024 (proto.md "Structured reply types")
      encode_offset_hole({offset, static_cast<std::uint32_t>(size)}, w);
      detail = "offset " + std::to_string(offset) + ", size " + std::to_string(size);
      break;
    }
    case StepKind::ChunkBlockStatus:
    case StepKind::ChunkBlockStatusExt: {
      const bool wide = step.kind == StepKind::ChunkBlockStatusExt;
      TRY(id, a.number("id", c.allocation_id.value_or(0), 32));
      TRY(d, descriptors(step, a, c, wide));
      if (wide) {
        type = NBD_REPLY_TYPE_BLOCK_STATUS_EXT;
        // X-S-034 (proto-extended-headers.md "Structured reply types")
        encode_block_status_ext(static_cast<std::uint32_t>(id), d, w);
        payload_override = PayloadOverride{"count", 4, 32};
      } else {
        type = NBD_REPLY_TYPE_BLOCK_STATUS;
        // S-BS-041 (proto.md "Structured reply types")
        encode_block_status(static_cast<std::uint32_t>(id), d, w);
      }
      detail = descriptors_text(static_cast<std::uint32_t>(id), d);
      break;
    }
    case StepKind::ChunkError:
    case StepKind::ChunkErrorOffset: {
      const bool with_offset = step.kind == StepKind::ChunkErrorOffset;
      // S-SR-028 (proto.md "Structured reply types"): nonzero
      TRY(error, a.number("error", NBD_EIO, 32));
      TRY(message, a.text("message", ""));
      TRY(offset, a.number("offset", req.offset));
      type = with_offset ? NBD_REPLY_TYPE_ERROR_OFFSET : NBD_REPLY_TYPE_ERROR;
      ErrorChunk ec{static_cast<std::uint32_t>(error), message, std::nullopt};
      if (with_offset) ec.offset = offset;
      // S-SR-027, S-SR-031 (proto.md "Structured reply types")
      encode_error_chunk(ec, w);
      detail = error_label(static_cast<std::uint32_t>(error));
      if (!message.empty()) detail += " " + quote(message);
      if (with_offset) detail += " at offset " + std::to_string(offset);
      payload_override = PayloadOverride{"message-length", 4, 16};
      break;
    }
    case StepKind::ChunkRaw: {
      TRY(data, a.bytes("payload", {}));
      w.bytes(data);
      detail = byte_count(data.size()) + " of payload";
      break;
    }
    default:
      return fail(step, O::ScriptError, "is not a chunk");
  }
  TRY(final_type, a.number("type", type, 16));
  TRY(flags, a.number("flags", default_flags, 16));

  Encoded e;
  Writer out(e.bytes);
  const ChunkHeader h{static_cast<std::uint16_t>(flags), static_cast<std::uint16_t>(final_type),
                      cookie, header_offset, payload.size()};
  if (extended) {
    encode_extended_reply_header(h, out);
  } else {
    encode_structured_reply_header(h, out);
  }
  const std::size_t header_size =
      extended ? EXTENDED_REPLY_HEADER_SIZE : STRUCTURED_REPLY_HEADER_SIZE;
  out.bytes(payload);
  Overrides o(a, e.bytes);
  TRY_VOID(o.field("magic", 0, 32));
  if (step.kind != StepKind::ChunkRaw && a.has("type")) {
    o.note("type " + std::to_string(final_type));
  }
  TRY_VOID(o.field("length", extended ? 24 : 16, extended ? 64 : 32));
  if (payload_override) {
    TRY_VOID(o.field(payload_override->key, header_size + payload_override->offset,
                     payload_override->bits));
  }
  e.description = chunk_type_label(static_cast<std::uint16_t>(final_type)) + " chunk (" +
                  (extended ? "extended" : "structured") + "), cookie " + hex(cookie) + ", flags " +
                  reply_flags_label(static_cast<std::uint16_t>(flags));
  if (extended) e.description += ", offset " + std::to_string(header_offset);
  if (!detail.empty()) e.description += ": " + detail;
  e.description += o.suffix();
  return e;
}

Result<Encoded> raw(const Args& a) {
  TRY(bytes, a.subject_bytes(0));
  Encoded e;
  e.description = "raw, " + byte_count(bytes.size());
  e.bytes = std::move(bytes);
  return e;
}

#undef TRY
#undef TRY_VOID

}  // namespace

Result<Encoded> encode_step(const Step& step, const Conversation& conversation) {
  const Args a(step, conversation.variables);
  switch (step.kind) {
    case StepKind::GreetingNewstyle:
      return greeting_newstyle(step, a);
    case StepKind::GreetingOldstyle:
      return greeting_oldstyle(step, a);
    case StepKind::ExportNameReply:
      return export_name_reply(step, conversation, a);
    case StepKind::ReplyAck:
    case StepKind::ReplyServer:
    case StepKind::ReplyInfoExport:
    case StepKind::ReplyInfoName:
    case StepKind::ReplyInfoDescription:
    case StepKind::ReplyInfoBlockSize:
    case StepKind::ReplyInfoRaw:
    case StepKind::ReplyMetaContext:
    case StepKind::ReplyError:
    case StepKind::ReplyRaw:
      return option_reply(step, conversation, a);
    case StepKind::SimpleReply:
      return simple_reply(step, conversation, a);
    case StepKind::ChunkNone:
    case StepKind::ChunkData:
    case StepKind::ChunkHole:
    case StepKind::ChunkBlockStatus:
    case StepKind::ChunkBlockStatusExt:
    case StepKind::ChunkError:
    case StepKind::ChunkErrorOffset:
    case StepKind::ChunkRaw:
      return chunk(step, conversation, a);
    case StepKind::Raw:
      return raw(a);
    default:
      return fail(step, O::ScriptError, "sends nothing");
  }
}

void apply_sent(const Encoded& e, Conversation& c) {
  if (e.next_phase) c.phase = *e.next_phase;
  if (e.oldstyle) c.oldstyle = true;
  if (e.greeting_flags) {
    c.greeting_flags = e.greeting_flags;
    c.oldstyle = false;
  }
  if (e.structured) c.structured = true;
  if (e.extended) c.extended = true;
  if (e.allocation_id) c.allocation_id = e.allocation_id;
}

}  // namespace nbdref::mock::playback
