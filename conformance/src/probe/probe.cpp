// Probe: the handshake and option haggling.
#include "probe/probe.hpp"

#include "probe/printable.hpp"
#include "probe/probe_error.hpp"
#include "wire/bytes.hpp"
#include "wire/constants.hpp"
#include "wire/limits.hpp"
#include "wire/option_request.hpp"
#include "wire/writer.hpp"

namespace nbdref::conform {
namespace {

// The largest payload any option reply can need: an NBD_REP_SERVER with a
// 4-byte length, a name and a description, each string at most 4096 bytes
// (S-GEN-003, proto.md "Conventions").
constexpr std::uint32_t kMaxOptionReplyPayload = 4 + 2 * wire::MAX_STRING_LENGTH;
// Replies to one option beyond which the server is taken to be looping.
constexpr std::size_t kMaxRepliesPerOption = 100'000;

std::vector<std::uint8_t> concat(const std::vector<std::uint8_t>& a,
                                 const std::vector<std::uint8_t>& b) {
  std::vector<std::uint8_t> out(a);
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

std::string describe_info_types(const std::vector<std::uint16_t>& types) {
  if (types.empty()) return "no information requests";
  std::string out = "information requests ";
  for (std::size_t i = 0; i < types.size(); ++i) {
    if (i > 0) out += ", ";
    const char* name = wire::info_name(types[i]);
    out += name ? name : "type " + std::to_string(types[i]);
  }
  return out;
}

}  // namespace

Greeting Probe::read_greeting() {
  const auto prefix = channel_.receive(wire::GREETING_PREFIX_SIZE, "the greeting");
  auto style = wire::decode_greeting_prefix(prefix);
  if (!style) {
    transcript().received("greeting (not NBD)", prefix);
    throw violation("greeting", style.error());
  }
  Greeting g;
  g.style = *style;
  if (g.style == wire::GreetingStyle::Newstyle) {
    const auto flags = channel_.receive(wire::HANDSHAKE_FLAGS_SIZE, "the handshake flags");
    g.handshake_flags = wire::load_be16(flags.data());
    transcript().received(
        "newstyle greeting, handshake flags " + wire::describe_handshake_flags(g.handshake_flags),
        concat(prefix, flags));
    greeting_ = g;
    return g;
  }
  const auto rest = channel_.receive(wire::OLDSTYLE_GREETING_REST_SIZE, "the oldstyle greeting");
  auto old = wire::decode_oldstyle_greeting_rest(rest);
  if (!old) {
    transcript().received("oldstyle greeting", concat(prefix, rest));
    throw violation("oldstyle greeting", old.error());
  }
  g.oldstyle = *old;
  g.reserved.assign(rest.end() - 124, rest.end());
  transcript().received(
      "oldstyle greeting, " + describe_export(old->export_size, old->transmission_flags()) +
          ", handshake flags " + wire::describe_handshake_flags(old->handshake_flags()),
      concat(prefix, rest));
  greeting_ = g;
  return g;
}

void Probe::send_client_flags(std::uint32_t flags) {
  std::vector<std::uint8_t> bytes;
  wire::Writer w(bytes);
  wire::encode_client_flags(flags, w);
  channel_.send(bytes, "client flags " + wire::describe_client_flags(flags));
}

ExportNameAnswer Probe::read_export_name_reply(bool padding) {
  ExportNameAnswer answer;
  const auto head =
      channel_.receive(wire::EXPORT_NAME_REPLY_SIZE, "the reply to NBD_OPT_EXPORT_NAME");
  auto decoded = wire::decode_export_name_reply(head);
  if (!decoded) throw violation("reply to NBD_OPT_EXPORT_NAME", decoded.error());
  answer.reply = *decoded;
  transcript().received(
      "reply to NBD_OPT_EXPORT_NAME: " +
          describe_export(answer.reply.export_size, answer.reply.transmission_flags),
      head);
  if (padding) {
    try {
      answer.padding =
          channel_.receive(wire::EXPORT_NAME_REPLY_PADDING, "the 124 bytes after the export reply");
    } catch (const ProbeError& e) {
      if (e.kind() != ProbeError::Kind::Timeout) throw;
      // S-HS-017 (proto.md "Handshake flags"): without NBD_FLAG_C_NO_ZEROES
      // the padding follows; a server that sent the reply and then nothing
      // more by the deadline left it out.
      throw ProbeError(ProbeError::Kind::Violation,
                       std::string(e.what()) +
                           ": the reply to NBD_OPT_EXPORT_NAME came without the 124 zero bytes "
                           "that follow it when NBD_FLAG_C_NO_ZEROES was not set [S-HS-017]",
                       "S-HS-017");
    }
    transcript().received("padding after the reply to NBD_OPT_EXPORT_NAME", answer.padding);
  }
  return answer;
}

void Probe::send_option(std::uint32_t option, std::span<const std::uint8_t> data,
                        const std::string& detail) {
  std::vector<std::uint8_t> bytes;
  wire::Writer w(bytes);
  wire::encode_option_request(option, data, w);
  std::string description = wire::describe_option(option);
  description += data.empty() ? ", no data" : ", " + std::to_string(data.size()) + " bytes of data";
  if (!detail.empty()) description += ": " + detail;
  channel_.send(bytes, description);
}

void Probe::send_raw(std::span<const std::uint8_t> bytes, std::string description) {
  channel_.send(bytes, std::move(description));
}

OptionReply Probe::read_option_reply(std::uint32_t option) {
  const std::string what = "a reply to " + wire::describe_option(option);
  const auto head = channel_.receive(wire::OPTION_REPLY_HEADER_SIZE, what);
  auto header = wire::decode_option_reply_header(head);
  if (!header) {
    transcript().received("option reply header", head);
    throw violation(what, header.error());
  }
  OptionReply reply;
  reply.option = header->option;
  reply.type = header->reply_type;
  auto describe_header = [&] {
    return "option reply header: " + wire::describe_option_reply(reply.type) + " for " +
           wire::describe_option(reply.option) + ", length " + std::to_string(header->length);
  };
  if (header->length > kMaxOptionReplyPayload) {
    transcript().received(describe_header(), head);
    throw ProbeError(ProbeError::Kind::Violation,
                     what + ": reply length " + std::to_string(header->length) +
                         " is more than any option reply can hold (" +
                         std::to_string(kMaxOptionReplyPayload) +
                         " bytes: strings are at most 4096 bytes) [S-GEN-003]",
                     "S-GEN-003");
  }
  try {
    reply.payload = channel_.receive(header->length, "the payload of " + describe_header());
  } catch (const ProbeError&) {
    transcript().received(describe_header(), head);
    throw;
  }
  transcript().received(reply.describe(), concat(head, reply.payload));
  // S-OPT-020 (proto.md "Fixed newstyle negotiation"): a reply names the option it answers.
  if (reply.option != option) {
    throw ProbeError(
        ProbeError::Kind::Violation,
        what + ": the reply names " + wire::describe_option(reply.option) + " instead [S-OPT-020]",
        "S-OPT-020");
  }
  return reply;
}

OptionReplies Probe::read_option_replies(std::uint32_t option) {
  OptionReplies replies;
  for (;;) {
    replies.push_back(read_option_reply(option));
    if (replies.back().is_final()) break;
    if (replies.size() >= kMaxRepliesPerOption) {
      throw ProbeError(ProbeError::Kind::Violation,
                       "more than " + std::to_string(kMaxRepliesPerOption) + " replies to " +
                           wire::describe_option(option) + " without a final one");
    }
  }
  note_acknowledged(option, replies.back());
  return replies;
}

OptionReplies Probe::request_option(std::uint32_t option, std::span<const std::uint8_t> data,
                                    const std::string& detail) {
  send_option(option, data, detail);
  return read_option_replies(option);
}

OptionReplies Probe::request_info(std::uint32_t option, std::string_view export_name,
                                  const std::vector<std::uint16_t>& info_types) {
  std::vector<std::uint8_t> data;
  wire::Writer w(data);
  wire::encode_info_request({export_name, info_types}, w);
  return request_option(option, data,
                        "export " + quoted(export_name) + ", " + describe_info_types(info_types));
}

OptionReplies Probe::request_meta_context(std::uint32_t option, std::string_view export_name,
                                          const std::vector<std::string>& queries) {
  std::vector<std::uint8_t> data;
  wire::Writer w(data);
  std::vector<std::string_view> views(queries.begin(), queries.end());
  wire::encode_meta_context_request({export_name, views}, w);
  std::string detail = "export " + quoted(export_name) + ", ";
  if (queries.empty()) detail += "no queries";
  for (std::size_t i = 0; i < queries.size(); ++i) {
    detail += (i == 0 ? "queries " : ", ") + quoted(queries[i]);
  }
  return request_option(option, data, detail);
}

void Probe::note_acknowledged(std::uint32_t option, const OptionReply& final_reply) {
  if (final_reply.type != wire::NBD_REP_ACK) return;
  if (option == wire::NBD_OPT_STRUCTURED_REPLY) structured_replies_ = true;
  if (option == wire::NBD_OPT_EXTENDED_HEADERS) extended_headers_ = true;
  // S-TLS-033, X-S-012 (proto.md "NBD_OPT_STARTTLS"): TLS starts the
  // negotiation afresh.
  if (option == wire::NBD_OPT_STARTTLS) structured_replies_ = extended_headers_ = false;
}

}  // namespace nbdref::conform
