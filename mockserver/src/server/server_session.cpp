#include "server/server_session.hpp"

#include <algorithm>
#include <utility>

#include "server/option_haggler.hpp"
#include "wire/constants.hpp"
#include "wire/handshake.hpp"
#include "wire/limits.hpp"
#include "wire/reply.hpp"

namespace nbdref::mock {

using namespace wire;
using script::ServeFault;

ServerSession::ServerSession(ServeConfig config) : config_(std::move(config)) {}

// ---- starting points ----

void ServerSession::start_with_greeting() {
  if (phase_ != SessionPhase::NotStarted) return;
  Writer w(out_);
  if (config_.oldstyle) {
    const auto& e = config_.exports.front();
    // S-HS-018: the upper 16 bits (handshake flags) stay zero.
    std::uint32_t flags = e.config.transmission_flags(false);
    if (config_.fault == ServeFault::OldstyleHandshakeFlags) {
      flags |= std::uint32_t{NBD_FLAG_FIXED_NEWSTYLE} << 16;
    }
    encode_oldstyle_greeting({e.config.size, flags}, w);
  } else {
    std::uint16_t flags = 0;
    if (config_.fixed_newstyle) flags |= NBD_FLAG_FIXED_NEWSTYLE;  // S-HS-014
    if (config_.no_zeroes) flags |= NBD_FLAG_NO_ZEROES;
    // S-HS-016: bits 2-15 stay clear.
    if (config_.fault == ServeFault::ReservedHandshakeFlag) flags |= 1u << 5;
    encode_newstyle_greeting({flags}, w);
  }
  start_after_greeting();
}

void ServerSession::start_after_greeting() {
  if (phase_ != SessionPhase::NotStarted) return;
  if (config_.oldstyle) {
    // Oldstyle has no options: the greeting described the first export.
    const auto& e = config_.exports.front();
    enter_transmission(transmission_setup(e, e.config.name, Negotiation{}, config_.fault));
    return;
  }
  phase_ = SessionPhase::Greeting;
  await_ = Await::ClientFlags;
}

void ServerSession::start_in_options(std::uint32_t client_flags) {
  if (phase_ != SessionPhase::NotStarted) return;
  negotiation_.client_flags = client_flags;
  enter_options();
}

bool ServerSession::start_in_transmission(std::string_view export_name, bool structured,
                                          bool extended,
                                          std::optional<std::uint32_t> allocation_context) {
  if (phase_ != SessionPhase::NotStarted) return false;
  const ServedExport* e = config_.find(export_name);
  // S-BS-004: block status replies need chunks.
  if (!e || (allocation_context && !structured && !extended)) return false;
  negotiation_.structured_replies = structured;
  negotiation_.extended_headers = extended;
  auto setup = transmission_setup(*e, export_name, negotiation_, config_.fault);
  setup.allocation_context = allocation_context;
  enter_transmission(std::move(setup));
  return true;
}

void ServerSession::enter_options() {
  phase_ = SessionPhase::Options;
  await_ = Await::OptionHeader;
}

void ServerSession::enter_transmission(TransmissionSetup setup) {
  commands_.emplace(std::move(setup));
  phase_ = SessionPhase::Transmission;
  await_ = Await::RequestHeader;
}

void ServerSession::end(std::string reason) {
  phase_ = SessionPhase::Finished;
  await_ = Await::Nothing;
  end_reason_ = std::move(reason);
  in_.clear();
}

void ServerSession::violation(std::string what) {
  violation_ = what;
  end("dropped the client, which " + what);
}

// ---- input ----

std::size_t ServerSession::wanted() const {
  switch (await_) {
    case Await::ClientFlags:
      return CLIENT_FLAGS_SIZE;
    case Await::OptionHeader:
      return OPTION_REQUEST_HEADER_SIZE;
    case Await::OptionData:
      return option_.length;
    case Await::RequestHeader:
      return commands_->setup().extended_requests() ? EXTENDED_REQUEST_SIZE : COMPACT_REQUEST_SIZE;
    case Await::RequestPayload:
    case Await::Nothing:
      return 0;
  }
  return 0;
}

std::size_t ServerSession::feed(std::span<const std::uint8_t> data) {
  if (phase_ == SessionPhase::NotStarted) return 0;
  std::size_t taken = 0;
  while (taken < data.size() && !finished() && out_.size() < OUTPUT_HIGH_WATER) {
    const auto rest = data.subspan(taken);
    if (await_ == Await::RequestPayload) {
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(payload_left_, rest.size()));
      if (keep_payload_) in_.insert(in_.end(), rest.begin(), rest.begin() + n);
      payload_left_ -= n;
      taken += n;
      if (payload_left_ == 0) dispatch();
      continue;
    }
    const std::size_t n = std::min(wanted() - in_.size(), rest.size());
    in_.insert(in_.end(), rest.begin(), rest.begin() + n);
    taken += n;
    if (in_.size() == wanted()) dispatch();
  }
  if (taken < data.size() && finished() && !violation_ && ended_by_client_) {
    // C-HS-004, C-TX-023: nothing may follow NBD_OPT_ABORT or NBD_CMD_DISC.
    violation_ = "sent " + std::to_string(data.size() - taken) +
                 " bytes after ending the session " +
                 (commands_ ? "with NBD_CMD_DISC [C-TX-023]" : "with NBD_OPT_ABORT [C-HS-004]");
  }
  return taken;
}

void ServerSession::dispatch() {
  switch (await_) {
    case Await::ClientFlags:
      on_client_flags();
      return;
    case Await::OptionHeader:
      on_option_header();
      return;
    case Await::OptionData:
      on_option_data();
      return;
    case Await::RequestHeader:
      on_request_header();
      return;
    case Await::RequestPayload:
      on_request_payload();
      return;
    case Await::Nothing:
      return;
  }
}

void ServerSession::on_client_flags() {
  const std::uint32_t flags = load_be32(in_.data());
  in_.clear();
  const auto show = [&] { return "client flags " + describe_client_flags(flags); };
  // S-HS-004, S-HS-020: unknown or unoffered flags end the session.
  if ((flags & ~KNOWN_CLIENT_FLAGS) && config_.fault != ServeFault::AcceptUnknownClientFlags)
    return violation("sent " + show() + " with unknown bits [C-HS-013]");
  if ((flags & NBD_FLAG_C_FIXED_NEWSTYLE) && !config_.fixed_newstyle) {
    return violation("sent " + show() + ", but fixed newstyle was not offered [S-HS-020]");
  }
  if ((flags & NBD_FLAG_C_NO_ZEROES) && !config_.no_zeroes &&
      config_.fault != ServeFault::AcceptUnofferedNoZeroes) {
    return violation("sent " + show() + ", but NBD_FLAG_NO_ZEROES was not offered [C-HS-012]");
  }
  negotiation_.client_flags = flags;
  enter_options();
}

void ServerSession::on_option_header() {
  auto h = decode_option_request_header(in_);
  in_.clear();
  if (!h) {
    return violation("sent an option header that does not start with IHAVEOPT: " +
                     h.error().to_string() + " (proto.md \"Newstyle negotiation\")");
  }
  if (h->length > config_.max_option_length) {
    // S-HS-011: refusing to buffer it is the server's right.
    return violation("sent " + describe_option(h->option) + " with " + std::to_string(h->length) +
                     " bytes of data, more than this server's limit of " +
                     std::to_string(config_.max_option_length) + " [S-HS-011]");
  }
  option_ = *h;
  if (config_.fault == ServeFault::UnknownOptionDataUnread && !OptionHaggler::knows(h->option)) {
    // S-INT-005 broken: refused, and its data left to be read as the next option.
    option_.length = 0;
  }
  if (option_.length == 0) {
    on_option_data();
  } else {
    await_ = Await::OptionData;
  }
}

void ServerSession::on_option_data() {
  auto outcome = OptionHaggler(config_, negotiation_, out_).handle(option_.option, in_);
  in_.clear();
  using Next = OptionOutcome::Next;
  switch (outcome.next) {
    case Next::Options:
      await_ = Await::OptionHeader;
      return;
    case Next::Transmission:
      enter_transmission(std::move(*outcome.setup));
      return;
    case Next::Aborted:
      ended_by_client_ = true;
      end(std::move(outcome.reason));
      return;
    case Next::Refused:
      end(std::move(outcome.reason));
      return;
    case Next::Violation:
      violation(std::move(outcome.reason));
      return;
  }
}

void ServerSession::on_request_header() {
  const bool extended = commands_->setup().extended_requests();
  auto h = extended ? decode_extended_request(in_) : decode_compact_request(in_);
  const std::uint32_t magic = load_be32(in_.data());
  in_.clear();
  if (!h) {
    if (extended && magic == NBD_REQUEST_MAGIC) {
      return violation(
          "sent a compact request although extended headers were negotiated [X-C-013]");
    }
    if (magic == static_cast<std::uint32_t>(IHAVEOPT >> 32)) {
      return violation("sent what looks like an option after transmission began [C-OPT-014]");
    }
    if (!extended && magic == NBD_EXTENDED_REQUEST_MAGIC) {
      return violation(
          "sent an extended request although extended headers were not negotiated "
          "(proto-extended-headers.md \"Request message\")");
    }
    return violation("sent a request with a bad magic: " + h.error().to_string() +
                     " (proto.md \"Request message\")");
  }
  if (h->type == NBD_CMD_DISC) {
    if (h->offset != 0 || h->length != 0) {
      return violation("sent NBD_CMD_DISC with offset " + std::to_string(h->offset) +
                       " and length " + std::to_string(h->length) + " [C-TX-024]");
    }
    // S-TX-041: no reply; every earlier request was already answered (S-TX-040).
    if (config_.fault == ServeFault::DiscAnswered) {
      Writer w(out_);
      encode_simple_reply({0, h->cookie}, w);
    }
    ended_by_client_ = true;
    return end("the client sent NBD_CMD_DISC");
  }
  auto plan = commands_->begin(*h);
  if (!plan) return violation(std::move(plan.error()));
  payload_left_ = plan->length;
  keep_payload_ = plan->keep;
  if (payload_left_ == 0) {
    on_request_payload();
  } else {
    await_ = Await::RequestPayload;
  }
}

void ServerSession::on_request_payload() {
  commands_->finish(keep_payload_ ? Bytes(in_) : Bytes(), out_);
  in_.clear();
  await_ = Await::RequestHeader;
}

std::vector<std::uint8_t> ServerSession::take_output() {
  return std::exchange(out_, {});
}

}  // namespace nbdref::mock
