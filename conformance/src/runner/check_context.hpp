// What a running check gets from the runner: the target, a deadline shared
// by all its connections, its own region of the export, and ways to open
// fresh connections at the phase it needs. Every connection's transcript is
// kept here, as the evidence of the outcome.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "probe/deadline.hpp"
#include "probe/probe.hpp"
#include "probe/target.hpp"
#include "probe/tls_session.hpp"
#include "probe/transcript.hpp"
#include "runner/outcome.hpp"
#include "wire/constants.hpp"
#include "wire/option_reply.hpp"

namespace nbdref::conform {

// Thrown by the helpers below (and by checks and their helpers) when a
// check cannot go on: the server lacks what the check needs
// (NotApplicable), something outside the check's clauses went wrong
// (Error), or a helper already found the failure (Fail). The runner makes
// it the outcome; a Fail without `required` gets the check's description.
struct CheckAbort {
  Status status;
  std::string reason;
  std::string required = {};
};

// How to enter the transmission phase.
struct ExportSetup {
  bool structured_replies = false;         // NBD_OPT_STRUCTURED_REPLY first
  std::vector<std::string> meta_contexts;  // NBD_OPT_SET_META_CONTEXT queries
};

// A connection in the transmission phase and what NBD_OPT_GO said.
struct OpenExport {
  Probe probe;
  std::uint64_t size = 0;
  std::uint16_t flags = 0;  // transmission flags
};

class CheckContext {
 public:
  // Bytes of the export each check may write to, from index * size on.
  static constexpr std::uint64_t kScratchRegionSize = std::uint64_t{256} << 10;

  CheckContext(const Target& target, Deadline deadline, std::size_t check_index);

  const Target& target() const { return target_; }
  const std::string& export_name() const { return target_.export_name; }
  const Deadline& deadline() const { return deadline_; }

  // A fresh connection, nothing exchanged yet.
  Probe connect();
  // A fresh connection past the greeting, `client_flags` sent. On a TLS
  // target, when both sides use fixed newstyle, TLS is negotiated next
  // (start_tls), so that the check's options travel under TLS as any
  // client's would. Aborts as not applicable when the server speaks
  // oldstyle.
  Probe connect_newstyle(std::uint32_t client_flags = wire::NBD_FLAG_C_FIXED_NEWSTYLE);
  // The same, never negotiating TLS: for checks of what a server does
  // before TLS (or without it).
  Probe connect_plaintext(std::uint32_t client_flags = wire::NBD_FLAG_C_FIXED_NEWSTYLE);
  // NBD_OPT_STARTTLS with no data, then the TLS handshake with the target's
  // credentials offering `versions`. Aborts as an error when the target has
  // no credentials, the server refuses STARTTLS or the handshake fails.
  void start_tls(Probe& probe, TlsVersions versions = TlsVersions::Current);
  // A fresh connection in the transmission phase on the target's export,
  // entered with NBD_OPT_GO (or NBD_OPT_EXPORT_NAME when GO is not
  // supported). Aborts as not applicable when the server does not offer
  // what `setup` asks for, as an error when the export cannot be opened.
  OpenExport open_export(const ExportSetup& setup = {});

  // The offset of this check's own region of an export of `export_size`
  // bytes; aborts as not applicable when the export is too small to have it.
  std::uint64_t scratch_offset(std::uint64_t export_size) const;

  // Outcomes.
  Outcome pass(std::string note = {}) const;
  Outcome fail(std::string observed, std::string required) const;
  Outcome not_applicable(std::string reason) const;

  // Every connection the check opened, in order.
  const std::vector<std::shared_ptr<Transcript>>& transcripts() const { return transcripts_; }

 private:
  const Target& target_;
  Deadline deadline_;
  std::size_t check_index_;
  std::vector<std::shared_ptr<Transcript>> transcripts_;
};

}  // namespace nbdref::conform
