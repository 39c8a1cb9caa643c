// The input of the fuzz target "transmission" (what each byte means to the
// target is in transmission.cpp's first comment): four configuration
// bytes, then operations, each a tag byte t and, by t % 4,
//   0 submit: 8 bytes (type, flags, 32-bit offset, 16-bit length);
//   1 send and 3 disconnect: nothing;
//   2 receive: a 16-bit length n, then n bytes the server sends.
// Defined here once for the target, its mutator (fuzz/mutator) and the seed
// recorder (fuzz/tools/seed_recorder), which writes its seeds through
// encode_transmission_input. Decoding keeps what a cut-short input holds
// (the target reads zeros past the end); encoding writes each receive's
// length from its bytes, so what it writes decodes whole.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "wire/bytes.hpp"

namespace nbdref::fuzz::transmission {

inline constexpr std::size_t CONFIG_BYTES = 4;
// Byte 0.
inline constexpr std::uint8_t STRUCTURED_REPLIES = 0x01;
inline constexpr std::uint8_t EXTENDED_HEADERS = 0x02;
inline constexpr unsigned CONTEXT_COUNT_SHIFT = 2;  // two bits: how many meta contexts
inline constexpr std::uint8_t STRICT = 0x10;
inline constexpr std::uint8_t PREAD_INITIALIZE = 0x20;
inline constexpr std::uint8_t BLOCK_SIZES_ADVERTISED = 0x40;
inline constexpr std::uint8_t FAIL_CALLBACKS = 0x80;
// Bytes 1-2: transmission flags; byte 3: an index into the export sizes.

inline unsigned context_count(std::uint8_t byte0) {
  return (byte0 >> CONTEXT_COUNT_SHIFT) & 3u;
}

// Operation tags, by tag % 4; the high bit modifies submit and disconnect.
inline constexpr std::uint8_t OP_SUBMIT = 0;
inline constexpr std::uint8_t OP_SEND = 1;
inline constexpr std::uint8_t OP_RECEIVE = 2;
inline constexpr std::uint8_t OP_DISCONNECT = 3;
inline constexpr std::uint8_t OP_FROM_END = 0x80;  // submit: offset counted from the end
inline constexpr std::uint8_t OP_ABANDON = 0x80;   // disconnect: abandon unsent commands
inline constexpr std::size_t SUBMIT_BODY_SIZE = 8;
inline constexpr std::size_t MAX_RECEIVE = 0xffff;

enum class OperationKind : std::uint8_t {
  Submit = OP_SUBMIT,
  Send = OP_SEND,
  Receive = OP_RECEIVE,
  Disconnect = OP_DISCONNECT,
};

// A submit's body.
struct SubmitFields {
  std::uint8_t type_index = 0;  // the command type, an index into the target's TYPES
  std::uint8_t flags = 0;
  std::uint32_t offset = 0;
  std::uint16_t length = 0;
};

struct Operation {
  std::uint8_t tag = 0;
  std::vector<std::uint8_t> body;  // a submit's fields, or the bytes received

  OperationKind kind() const { return static_cast<OperationKind>(tag % 4); }
  bool operator==(const Operation&) const = default;
};

// A submit's fields; those a cut-short body lacks read as zeros.
SubmitFields submit_fields(wire::Bytes body);
std::vector<std::uint8_t> submit_body(const SubmitFields& fields);
Operation submit_operation(const SubmitFields& fields, bool from_end);

struct TransmissionInput {
  std::vector<std::uint8_t> config;  // as many as the input holds, at most CONFIG_BYTES
  std::vector<Operation> operations;

  bool operator==(const TransmissionInput&) const = default;
};

TransmissionInput decode_transmission_input(wire::Bytes input);
// The configuration padded with zeros, then the operations that fit in
// `max_size` bytes: a receive that does not fit whole is cut short, a
// submit cut short is padded with zeros (the target reads those past the
// end), a send or disconnect has no body.
std::vector<std::uint8_t> encode_transmission_input(
    const TransmissionInput& input, std::size_t max_size = std::numeric_limits<std::size_t>::max());

}  // namespace nbdref::fuzz::transmission
