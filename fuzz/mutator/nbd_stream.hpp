// A server's byte stream seen as the NBD messages it holds: greetings,
// option replies, simple replies, structured and extended reply chunks
// (proto.md "Handshake", "Option reply types", "Transmission"), and raw
// bytes wherever no message header starts. Splitting is by magic alone, so
// it needs no knowledge of what the client asked; joining the messages
// gives back the stream byte for byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "wire/bytes.hpp"

namespace nbdref::fuzz::mutator {

enum class MessageKind : std::uint8_t {
  NewstyleGreeting,  // NBDMAGIC, IHAVEOPT, 16-bit handshake flags
  OldstyleGreeting,  // NBDMAGIC, cliserv magic, size, 32-bit flags, 124 zeros
  OptionReply,       // magic, option, reply type, length, payload
  SimpleReply,       // magic, error, cookie (the data of a read follows as raw bytes)
  StructuredChunk,   // magic, flags, type, cookie, 32-bit length, payload
  ExtendedChunk,     // magic, flags, type, cookie, offset, 64-bit length, payload
  Raw,               // bytes that start no message: an export name reply, read data, noise
};
inline constexpr MessageKind ALL_MESSAGE_KINDS[] = {MessageKind::NewstyleGreeting,
                                                    MessageKind::OldstyleGreeting,
                                                    MessageKind::OptionReply,
                                                    MessageKind::SimpleReply,
                                                    MessageKind::StructuredChunk,
                                                    MessageKind::ExtendedChunk,
                                                    MessageKind::Raw};

struct Message {
  MessageKind kind = MessageKind::Raw;
  std::vector<std::uint8_t> bytes;  // the whole message as sent: header, then payload

  bool operator==(const Message&) const = default;
};
using Stream = std::vector<Message>;

// Size of the kind's fixed header: the whole message for the greetings and
// a simple reply, 0 for raw bytes.
std::size_t header_size(MessageKind kind);
// Whether the kind's header declares the length of a payload after it.
bool has_payload(MessageKind kind);
// Bytes present after the header (0 when the header itself is cut short).
std::size_t payload_size(const Message& m);
// The payload length the header declares, when it has one and is whole.
std::optional<std::uint64_t> declared_length(const Message& m);
// Whether the declared length is the payload present (true for kinds without one).
bool length_consistent(const Message& m);
// Makes the declared length the payload present.
void fix_length(Message& m);

// A message header starting at `at`: the kind, and the message's size --
// the header plus the declared payload when the stream holds all of it,
// else the header alone.
struct Found {
  MessageKind kind;
  std::size_t size;
};
std::optional<Found> message_at(wire::Bytes stream, std::size_t at);

Stream split_stream(wire::Bytes stream);
std::vector<std::uint8_t> join_stream(const Stream& stream);

}  // namespace nbdref::fuzz::mutator
