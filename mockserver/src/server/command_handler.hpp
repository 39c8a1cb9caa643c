// Serves transmission requests from the RAM disk (proto.md "Request types",
// "Error values"). Each request is checked as soon as its header arrives,
// so the session knows whether to keep or drop the payload that follows;
// once the payload is in, the request runs and its reply is queued.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "server/reply_writer.hpp"
#include "server/transmission_setup.hpp"
#include "wire/request.hpp"

namespace nbdref::mock {

// Most payload bytes one request may make the server hold, whatever the
// export advertises: both what it buffers (a WRITE) and what it queues (a
// READ's reply). Twice the 32 MiB every peer must accept (S-SZ-016).
inline constexpr std::uint64_t MAX_HELD_PAYLOAD = std::uint64_t{64} << 20;

// What follows a request header on the wire.
struct PayloadPlan {
  std::uint64_t length = 0;
  bool keep = false;  // the request needs the bytes; otherwise they are dropped
};

class CommandHandler {
 public:
  explicit CommandHandler(TransmissionSetup setup);

  const TransmissionSetup& setup() const { return setup_; }

  // A request header arrived (not NBD_CMD_DISC). Returns what follows it,
  // or what the client did that leaves a disconnect as the only answer.
  tl::expected<PayloadPlan, std::string> begin(const wire::RequestHeader& h);
  // The payload begin() announced has arrived (`payload` is empty unless it
  // was kept): runs the request and queues its reply on `out`.
  void finish(wire::Bytes payload, std::vector<std::uint8_t>& out);

 private:
  struct Failure {
    std::uint32_t error = 0;  // NBD_E*
    std::string message;
  };

  std::optional<Failure> check(const wire::RequestHeader& h) const;
  std::optional<Failure> check_flags(const wire::RequestHeader& h) const;
  std::optional<Failure> check_range(const wire::RequestHeader& h) const;
  void read(ReplyWriter& w);
  void block_status(ReplyWriter& w);

  // Largest payload accepted: the advertised (or default) maximum, held to
  // MAX_HELD_PAYLOAD.
  std::uint64_t payload_limit() const;
  bool faulty(script::ServeFault fault) const { return setup_.fault == fault; }

  TransmissionSetup setup_;
  wire::RequestHeader request_;     // the request being served
  std::optional<Failure> failure_;  // why it fails, found by begin()
};

}  // namespace nbdref::mock
