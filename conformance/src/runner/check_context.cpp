#include "runner/check_context.hpp"

#include "probe/printable.hpp"
#include "probe/probe_error.hpp"
#include "wire/bytes.hpp"

namespace nbdref::conform {

CheckContext::CheckContext(const Target& target, Deadline deadline, std::size_t check_index)
    : target_(target), deadline_(deadline), check_index_(check_index) {}

Probe CheckContext::connect() {
  auto transcript =
      std::make_shared<Transcript>("connection " + std::to_string(transcripts_.size() + 1));
  transcripts_.push_back(transcript);
  return Probe(ByteChannel::open(target_, deadline_, std::move(transcript)));
}

Probe CheckContext::connect_newstyle(std::uint32_t client_flags) {
  Probe probe = connect_plaintext(client_flags);
  // S-TLS-007 (proto.md "Server-side requirements"): TLS needs fixed
  // newstyle on both sides.
  if (target_.tls && (client_flags & wire::NBD_FLAG_C_FIXED_NEWSTYLE) != 0 &&
      (probe.greeting()->handshake_flags & wire::NBD_FLAG_FIXED_NEWSTYLE) != 0) {
    start_tls(probe);
  }
  return probe;
}

void CheckContext::start_tls(Probe& probe, TlsVersions versions) {
  if (!target_.tls) throw CheckAbort{Status::Error, "the target has no TLS credentials"};
  const OptionReplies r = probe.request_option(wire::NBD_OPT_STARTTLS);
  if (r.size() != 1 || r.back().type != wire::NBD_REP_ACK) {
    throw CheckAbort{Status::Error,
                     "cannot negotiate TLS: NBD_OPT_STARTTLS was answered " + r.back().describe()};
  }
  const TlsHandshake handshake = probe.channel().start_tls(*target_.tls, versions);
  if (!handshake.established()) {
    throw CheckAbort{Status::Error, "cannot negotiate TLS: " + handshake.why};
  }
}

Probe CheckContext::connect_plaintext(std::uint32_t client_flags) {
  Probe probe = connect();
  const Greeting greeting = probe.read_greeting();
  if (greeting.style == wire::GreetingStyle::Oldstyle) {
    throw CheckAbort{Status::NotApplicable, "the server uses oldstyle negotiation"};
  }
  probe.send_client_flags(client_flags);
  return probe;
}

OpenExport CheckContext::open_export(const ExportSetup& setup) {
  Probe probe = connect_newstyle();
  if (setup.structured_replies || !setup.meta_contexts.empty()) {
    const OptionReplies r = probe.request_option(wire::NBD_OPT_STRUCTURED_REPLY);
    if (r.back().type != wire::NBD_REP_ACK) {
      throw CheckAbort{Status::NotApplicable, "the server does not offer structured replies (" +
                                                  r.back().describe() + ")"};
    }
  }
  if (!setup.meta_contexts.empty()) {
    const OptionReplies r = probe.request_meta_context(wire::NBD_OPT_SET_META_CONTEXT,
                                                       export_name(), setup.meta_contexts);
    if (r.back().type != wire::NBD_REP_ACK || r.size() < 2) {
      throw CheckAbort{Status::NotApplicable,
                       "the server selected no metadata context (" + r.back().describe() + ")"};
    }
  }
  const OptionReplies go = probe.request_info(wire::NBD_OPT_GO, export_name());
  if (go.back().type == wire::NBD_REP_ACK) {
    const auto infos = decode_infos(go);
    const auto info = find_export_info(infos);
    if (!info) {
      throw ProbeError(ProbeError::Kind::Violation,
                       "NBD_OPT_GO succeeded without an NBD_INFO_EXPORT reply [S-OPT-014]",
                       "S-OPT-014");
    }
    return OpenExport{std::move(probe), info->export_size, info->transmission_flags};
  }
  if (go.back().type == wire::NBD_REP_ERR_UNSUP && setup.meta_contexts.empty() &&
      !setup.structured_replies) {
    probe.send_option(wire::NBD_OPT_EXPORT_NAME, wire::as_bytes(export_name()),
                      "export " + quoted(export_name()));
    const ExportNameAnswer answer = probe.read_export_name_reply(true);
    return OpenExport{std::move(probe), answer.reply.export_size, answer.reply.transmission_flags};
  }
  throw CheckAbort{Status::Error, "cannot open the export: " + go.back().describe()};
}

std::uint64_t CheckContext::scratch_offset(std::uint64_t export_size) const {
  const std::uint64_t offset = check_index_ * kScratchRegionSize;
  if (offset + kScratchRegionSize > export_size) {
    throw CheckAbort{Status::NotApplicable,
                     "the export (" + std::to_string(export_size) +
                         " bytes) is too small for this check's own region at offset " +
                         std::to_string(offset)};
  }
  return offset;
}

Outcome CheckContext::pass(std::string note) const {
  return Outcome{Status::Pass, std::move(note), {}};
}

Outcome CheckContext::fail(std::string observed, std::string required) const {
  return Outcome{Status::Fail, std::move(observed), std::move(required)};
}

Outcome CheckContext::not_applicable(std::string reason) const {
  return Outcome{Status::NotApplicable, std::move(reason), {}};
}

}  // namespace nbdref::conform
